using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Outbox;

/// <summary>
/// Moves committed events to the "events" work queue, one message per event, with the event id
/// as the message id (a republish by the outbox sweep is then a duplicate Service Bus drops).
/// </summary>
public sealed class EventDispatcher(IWorkQueue queue)
{
    public const string QueueName = "events";
    public const string Kind = "event";

    public Task EnqueueAsync(IReadOnlyList<EventRecord> events, CancellationToken cancellationToken) =>
        events.Count == 0
            ? Task.CompletedTask
            : queue.SendAsync(QueueName, events.Select(Envelope).ToList(), cancellationToken);

    public static WorkEnvelope Envelope(EventRecord record) => new(record.Id, Kind, record.ToJson().ToJsonString());

    public static EventRecord? Read(string body)
    {
        try
        {
            if (JsonNode.Parse(body) is not JsonObject json) return null;
            var id = json["id"]?.GetValue<string>();
            var type = json["type"]?.GetValue<string>();
            var tenantId = json["tenantId"]?.GetValue<string>();
            if (id is null || type is null || tenantId is null) return null;
            return new EventRecord(id, type, tenantId, json["directoryId"]?.GetValue<string>(), json["connectionId"]?.GetValue<string>(),
                DateTimeOffset.TryParse(json["occurredAt"]?.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : default,
                json["data"] as JsonObject ?? new JsonObject());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
