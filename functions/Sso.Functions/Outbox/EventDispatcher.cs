using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Outbox;

/// <summary>
/// Moves committed events to the "events" work queue. On Service Bus, one message per event with
/// the event id as the message id (a republish by the outbox sweep is then a duplicate Service
/// Bus drops), all of a batch in one send. A Storage queue sends each message on its own request,
/// so there the events of a batch are packed into as few messages as fit (<see cref="PackedKind"/>,
/// at most <see cref="MaxPerPackedMessage"/> events or <see cref="MaxPackedChars"/> characters
/// each); the worker unpacks them and hands any it could not handle on as messages of their own.
/// </summary>
public sealed class EventDispatcher(IWorkQueue queue)
{
    public const string QueueName = "events";
    public const string Kind = "event";
    public const string PackedKind = "events";
    public const int MaxPerPackedMessage = 32;

    // A Storage queue message holds 64 KiB after Base64 (48 KiB before); the body is a JSON string
    // inside the envelope, where escaping can double its quotes and backslashes.
    public const int MaxPackedChars = 20_000;

    public Task EnqueueAsync(IReadOnlyList<EventRecord> events, CancellationToken cancellationToken) =>
        events.Count == 0 ? Task.CompletedTask
        : queue.SendsManyInOneRequest || events.Count == 1 ? queue.SendAsync(QueueName, events.Select(Envelope).ToList(), cancellationToken)
        : queue.SendAsync(QueueName, Pack(events), cancellationToken);

    public static WorkEnvelope Envelope(EventRecord record) => new(record.Id, Kind, record.ToJson().ToJsonString());

    /// <summary>
    /// The events in order, packed into messages of <see cref="PackedKind"/> (a JSON array of events,
    /// message id: the first event's id and the count); an event too large to share a message goes alone.
    /// </summary>
    public static IReadOnlyList<WorkEnvelope> Pack(IReadOnlyList<EventRecord> events)
    {
        var messages = new List<WorkEnvelope>();
        var pack = new List<(string Id, string Json)>();
        var chars = 0;
        foreach (var record in events)
        {
            var json = record.ToJson().ToJsonString();
            if (pack.Count > 0 && (pack.Count == MaxPerPackedMessage || chars + json.Length + 1 > MaxPackedChars)) Flush();
            pack.Add((record.Id, json));
            chars += json.Length + 1;
        }
        Flush();
        return messages;

        void Flush()
        {
            if (pack.Count == 1) messages.Add(new WorkEnvelope(pack[0].Id, Kind, pack[0].Json));
            else if (pack.Count > 1) messages.Add(new WorkEnvelope($"{pack[0].Id}+{pack.Count}", PackedKind, "[" + string.Join(',', pack.Select(p => p.Json)) + "]"));
            pack.Clear();
            chars = 0;
        }
    }

    /// <summary>The events a message carries: one for <see cref="Kind"/>, several for <see cref="PackedKind"/>; null when unreadable.</summary>
    public static IReadOnlyList<EventRecord>? ReadMessage(string kind, string body)
    {
        if (kind != PackedKind) return Read(body) is { } single ? [single] : null;
        try
        {
            if (JsonNode.Parse(body) is not JsonArray array) return null;
            var records = new List<EventRecord>(array.Count);
            foreach (var item in array)
            {
                if (item is null || Read(item.ToJsonString()) is not { } record) return null;
                records.Add(record);
            }
            return records.Count > 0 ? records : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

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
