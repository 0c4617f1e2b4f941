using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;

namespace Sso.Functions.Storage.Queues;

/// <summary>
/// Service Bus dead-letter sub-queues over the REST API: messages are peek-locked one by one
/// (which is how REST reads without consuming) and unlocked again after listing; a replay sends
/// the work to the main queue and then deletes the locked dead letter.
/// </summary>
public sealed class ServiceBusDeadLetterQueue(HttpClient http, Uri namespaceUri, TokenCredential credential, ServiceBusWorkQueue sender)
    : IDeadLetterQueue
{
    public async Task<IReadOnlyList<DeadLetter>> ListAsync(string queueName, int max, CancellationToken cancellationToken)
    {
        var token = await TokenAsync(cancellationToken);
        var locked = new List<LockedMessage>();
        try
        {
            while (locked.Count < Math.Clamp(max, 1, 100) && await PeekLockAsync(queueName, token, cancellationToken) is { } message)
                locked.Add(message);
            return locked.Select(m => m.ToDeadLetter(queueName)).ToList();
        }
        finally
        {
            foreach (var message in locked)
                await SendAsync(HttpMethod.Put, MessageUri(queueName, message), token, CancellationToken.None);
        }
    }

    public async Task<bool> ReplayAsync(string queueName, string deadLetterId, CancellationToken cancellationToken)
    {
        var token = await TokenAsync(cancellationToken);
        var skipped = new List<LockedMessage>();
        try
        {
            while (skipped.Count < 100 && await PeekLockAsync(queueName, token, cancellationToken) is { } message)
            {
                if (message.SequenceNumber != deadLetterId)
                {
                    skipped.Add(message);
                    continue;
                }
                var envelope = WorkEnvelope.Read(message.Body);
                if (envelope is null)
                {
                    skipped.Add(message);
                    return false;
                }
                await sender.SendAsync(queueName, [envelope with { MessageId = DeadLetterReplay.NewMessageId(envelope.MessageId) }],
                    cancellationToken);
                await SendAsync(HttpMethod.Delete, MessageUri(queueName, message), token, cancellationToken);
                return true;
            }
            return false;
        }
        finally
        {
            foreach (var message in skipped)
                await SendAsync(HttpMethod.Put, MessageUri(queueName, message), token, CancellationToken.None);
        }
    }

    private async Task<string> TokenAsync(CancellationToken cancellationToken) =>
        (await credential.GetTokenAsync(new TokenRequestContext([ServiceBusWorkQueue.Scope]), cancellationToken)).Token;

    private Uri DeadLetterUri(string queueName) => new(namespaceUri, Uri.EscapeDataString(queueName) + "/$DeadLetterQueue/messages/");

    private Uri MessageUri(string queueName, LockedMessage message) =>
        new(DeadLetterUri(queueName), Uri.EscapeDataString(message.MessageId ?? "") + "/" + Uri.EscapeDataString(message.LockToken));

    private async Task<LockedMessage?> PeekLockAsync(string queueName, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(DeadLetterUri(queueName), "head?timeout=0"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Content = new ByteArrayContent([]);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NoContent) return null;
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"Service Bus refused to read the dead letters of {queueName}: {(int)response.StatusCode}",
                null, response.StatusCode);
        var properties = response.Headers.TryGetValues("BrokerProperties", out var values)
            ? JsonNode.Parse(values.First()) as JsonObject
            : null;
        if (properties?["LockToken"]?.GetValue<string>() is not { } lockToken) return null;
        var reason = response.Headers.TryGetValues("DeadLetterReason", out var reasons)
            ? Unquote(reasons.First())
            : "dead-lettered";
        return new LockedMessage(
            properties["MessageId"]?.GetValue<string>(),
            lockToken,
            properties["SequenceNumber"]?.ToJsonString() ?? "",
            properties["DeliveryCount"]?.GetValue<int>(),
            properties["EnqueuedTimeUtc"]?.GetValue<string>() is { } enqueued && DateTimeOffset.TryParse(enqueued,
                System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : null,
            reason,
            await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private static string Unquote(string header)
    {
        try
        {
            return JsonSerializer.Deserialize(header, QueueJsonContext.Default.String) ?? header;
        }
        catch (JsonException)
        {
            return header;
        }
    }

    private async Task SendAsync(HttpMethod method, Uri uri, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
            throw new HttpRequestException($"Service Bus refused {method} on a dead letter: {(int)response.StatusCode}", null, response.StatusCode);
    }

    private sealed record LockedMessage(
        string? MessageId, string LockToken, string SequenceNumber, int? DeliveryCount, DateTimeOffset? EnqueuedAt, string Reason, string Body)
    {
        public DeadLetter ToDeadLetter(string queueName) =>
            new(SequenceNumber, queueName, MessageId, WorkEnvelope.Read(Body)?.Kind, Reason, DeliveryCount, EnqueuedAt);
    }
}
