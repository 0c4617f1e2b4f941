using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>
/// An event of the public feed (<c>GET /api/v1/events</c>). Its id sorts by time: the clock's ticks,
/// then a process-wide sequence, then randomness, so events of one change keep their order.
/// </summary>
public sealed record EventRecord(
    string Id, string Type, string TenantId, string? DirectoryId, string? ConnectionId, DateTimeOffset OccurredAt, JsonObject Data)
{
    public const string OutboxKind = "event";

    private static long _sequence;

    public static string NewId(DateTimeOffset now)
    {
        var sequence = Interlocked.Increment(ref _sequence) % 10_000_000_000L;
        return "evt_" + now.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)
                      + sequence.ToString("D10", CultureInfo.InvariantCulture) + Ids.New("")[..6];
    }

    /// <summary>The outbox row, written in the same transaction (same partition) as the change.</summary>
    public TableEntity ToOutboxEntity(string partitionKey) => Fill(new TableEntity(partitionKey, TableKey.Row(OutboxKind, Id)));

    /// <summary>
    /// A row of a feed partition (see <see cref="EventFeedStore"/>): RowKey <c>seq|&lt;sequence&gt;</c>,
    /// with the stamp of when the event entered the feed.
    /// </summary>
    public TableEntity ToFeedEntity(string partitionKey, long sequence, long enteredTicks)
    {
        var entity = Fill(new TableEntity(partitionKey, EventFeedStore.SequenceRow(sequence)));
        entity["Sequence"] = sequence;
        entity["EnteredTicks"] = enteredTicks;
        return entity;
    }

    private TableEntity Fill(TableEntity entity)
    {
        entity["EventId"] = Id;
        entity["Type"] = Type;
        entity["TenantId"] = TenantId;
        entity["DirectoryId"] = DirectoryId;
        entity["ConnectionId"] = ConnectionId;
        entity["OccurredAt"] = OccurredAt;
        entity["Data"] = Data.ToJsonString();
        return entity;
    }

    public static EventRecord FromEntity(TableEntity entity) => new(
        entity.GetString("EventId"), entity.GetString("Type"), entity.GetString("TenantId"), entity.GetString("DirectoryId"),
        entity.GetString("ConnectionId"), entity.GetDateTimeOffset("OccurredAt") ?? default,
        JsonNode.Parse(entity.GetString("Data") ?? "{}") as JsonObject ?? new JsonObject());

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["id"] = Id,
            ["type"] = Type,
            ["tenantId"] = TenantId,
        };
        if (DirectoryId is not null) json["directoryId"] = DirectoryId;
        if (ConnectionId is not null) json["connectionId"] = ConnectionId;
        json["occurredAt"] = OccurredAt.ToString("O", CultureInfo.InvariantCulture);
        json["data"] = Data.DeepClone();
        return json;
    }
}
