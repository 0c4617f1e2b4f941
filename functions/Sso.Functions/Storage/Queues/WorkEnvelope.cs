using System.Text.Json;

namespace Sso.Functions.Storage.Queues;

/// <summary>What every work-queue message carries: a deterministic id, a kind and a JSON body.</summary>
public sealed record WorkEnvelope(string MessageId, string Kind, string Body)
{
    public string Write() => JsonSerializer.Serialize(this, QueueJsonContext.Default.WorkEnvelope);

    public static WorkEnvelope? Read(string text)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize(text, QueueJsonContext.Default.WorkEnvelope);
            return envelope is { MessageId.Length: > 0, Kind.Length: > 0, Body: not null } ? envelope : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
