using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>
/// The event feed (<c>GET /api/v1/events</c>), table "eventfeed".
///
/// A change and its event commit in one transaction in the owner's partition (the outbox row
/// <c>event|&lt;id&gt;</c>); <see cref="OutboxPublisher"/> then copies the event here, enqueues it and
/// deletes the outbox row, and <see cref="OutboxSweep"/> republishes outbox rows a crash left.
///
/// Partitions: <c>shard-00</c> … <c>shard-15</c> (<see cref="ShardCount"/>, fixed: cursors name
/// each shard's position), the shard being a stable hash of the tenant id, so no partition takes
/// every tenant's writes; and one partition per tenant for <c>?tenantId=</c>. Each event is in
/// its tenant's shard and its tenant's partition.
///
/// Rows of a partition: <c>counter</c> (the last sequence number given), <c>id|&lt;event id&gt;</c>
/// (the event is in this partition: added once, so a republish finds it and is dropped) and
/// <c>seq|&lt;sequence&gt;</c> (the event, with the stamp of when it entered the feed). Appending is
/// one transaction per partition: the counter under its ETag, then an <c>id|</c> and a <c>seq|</c> row
/// per event. A writer that lost the counter race reads it again; a writer whose <c>id|</c> row
/// exists drops that event. So sequence numbers become visible in order and without gaps: a
/// reader that has seen sequence N of a partition has seen every row up to N, whenever and by
/// whoever the rows were written, and its cursor (one position per partition) never passes a
/// row it has not read. A republished event simply gets the next sequence number.
///
/// Order: within a partition, the order events entered the feed; so within a tenant, that order.
/// The whole feed merges the shards by (time entered, event id); events of different tenants
/// entering at about the same time may show in either order. The event's own time is
/// <c>occurredAt</c> (and its id, which sorts by it).
///
/// Reads hold back events that occurred less than <see cref="SettleTime"/> ago, stopping at the
/// first such row of a partition (never skipping it), as the feed did before it had sequences.
/// </summary>
public sealed class EventFeedStore(TableStorage storage, TimeProvider clock, EventDispatcher dispatcher)
{
    public const string TableName = TableNames.EventFeed;
    public const int ShardCount = 16;
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    private const string CounterRow = "counter";
    private const string IdKind = "id";
    private const string SequenceKind = "seq";
    // One counter update and two rows per event fit a 100-action transaction.
    private const int EventsPerTransaction = 49;
    private const int MaxAttemptsWithoutProgress = 64;

    private long _lastStamp;

    private Task<TableClient> FeedAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    public static string SequenceRow(long sequence) => SequenceKind + "|" + sequence.ToString("D19", CultureInfo.InvariantCulture);

    public static string ShardOf(string tenantId) => "shard-" + (StableHash(tenantId) % ShardCount).ToString("D2", CultureInfo.InvariantCulture);

    private static string ShardName(int shard) => "shard-" + shard.ToString("D2", CultureInfo.InvariantCulture);

    /// <summary>FNV-1a over the id's UTF-16 code units: the same on every instance and in every version.</summary>
    public static uint StableHash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ (uint)(c & 0xFF)) * 16777619u;
            hash = (hash ^ (uint)(c >> 8)) * 16777619u;
        }
        return hash;
    }

    /// <summary>The clock's ticks, strictly increasing in this process, so events stamped one after another keep their order.</summary>
    private long NextStamp()
    {
        var now = clock.GetUtcNow().UtcTicks;
        while (true)
        {
            var last = Interlocked.Read(ref _lastStamp);
            var next = Math.Max(now, last + 1);
            if (Interlocked.CompareExchange(ref _lastStamp, next, last) == last) return next;
        }
    }

    /// <summary>
    /// Copies events into the feed, in the given order, each at most once per partition (an event
    /// already there is left as it is). Partitions are written side by side.
    /// </summary>
    public async Task AddAsync(IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return;
        var feed = await FeedAsync(cancellationToken);
        var stamped = events.DistinctBy(e => e.Id).Select(e => (Event: e, Stamp: NextStamp())).ToList();
        var partitions = stamped
            .SelectMany(e => new[] { (Partition: ShardOf(e.Event.TenantId), Entry: e), (Partition: e.Event.TenantId, Entry: e) })
            .GroupBy(p => p.Partition, p => p.Entry);
        await Task.WhenAll(partitions.Select(p => AppendToPartitionAsync(feed, p.Key, p.ToList(), cancellationToken)));
    }

    /// <summary>
    /// An event that no state row commits with (the delivery worker disabling a webhook, a domain
    /// that lost its verification): written to the feed and dispatched at once. The change it
    /// reports is already saved, so a crash between the two loses only the notice, never the change.
    /// </summary>
    public async Task AppendAsync(EventRecord record, CancellationToken cancellationToken)
    {
        await AddAsync([record], cancellationToken);
        await dispatcher.EnqueueAsync([record], cancellationToken);
    }

    private static async Task AppendToPartitionAsync(TableClient feed, string partition, List<(EventRecord Event, long Stamp)> entries,
        CancellationToken cancellationToken)
    {
        var pending = new List<(EventRecord Event, long Stamp)>(entries);
        var attempts = 0;
        while (pending.Count > 0)
        {
            if (++attempts > MaxAttemptsWithoutProgress)
                throw new InvalidOperationException($"The feed partition {partition} kept changing; the outbox sweep will retry.");
            var chunk = pending.Take(EventsPerTransaction).ToList();
            var counter = await feed.GetEntityIfExistsAsync<TableEntity>(partition, CounterRow, cancellationToken: cancellationToken);
            var last = counter.HasValue ? counter.Value!.GetInt64("Last") ?? 0 : 0;
            var next = new TableEntity(partition, CounterRow) { ["Last"] = last + chunk.Count };
            var actions = new List<TableTransactionAction>(1 + 2 * chunk.Count)
            {
                counter.HasValue
                    ? new(TableTransactionActionType.UpdateReplace, next, counter.Value!.ETag)
                    : new(TableTransactionActionType.Add, next),
            };
            for (var i = 0; i < chunk.Count; i++)
            {
                var sequence = last + 1 + i;
                actions.Add(new(TableTransactionActionType.Add, new TableEntity(partition, TableKey.Row(IdKind, chunk[i].Event.Id))
                {
                    ["Sequence"] = sequence,
                }));
                actions.Add(new(TableTransactionActionType.Add, chunk[i].Event.ToFeedEntity(partition, sequence, chunk[i].Stamp)));
            }
            try
            {
                await feed.SubmitTransactionAsync(actions, cancellationToken);
                pending.RemoveRange(0, chunk.Count);
                attempts = 0;
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                // 412, or 409 on the counter's Add: another writer moved the counter; read it again.
                // 409 on an id| row (odd index): the event is in this partition already; drop it.
                if (e.Status == 409 && e.FailedTransactionActionIndex is { } index && index % 2 == 1)
                    pending.Remove(chunk[(index - 1) / 2]);
                else if (e.Status == 409 && e.FailedTransactionActionIndex is null)
                    await DropPresentAsync(feed, partition, chunk, pending, cancellationToken);
            }
        }
    }

    /// <summary>A conflict the service did not place: drop whichever events of the chunk are in the partition already.</summary>
    private static async Task DropPresentAsync(TableClient feed, string partition, List<(EventRecord Event, long Stamp)> chunk,
        List<(EventRecord Event, long Stamp)> pending, CancellationToken cancellationToken)
    {
        foreach (var entry in chunk)
        {
            var present = await feed.GetEntityIfExistsAsync<TableEntity>(partition, TableKey.Row(IdKind, entry.Event.Id), select: ["RowKey"],
                cancellationToken: cancellationToken);
            if (present.HasValue) pending.Remove(entry);
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> events after <paramref name="cursor"/>: one tenant's partition,
    /// or the 16 shards read side by side and merged by (time entered, event id). Only the
    /// partitions whose rows were returned move in the next cursor.
    /// </summary>
    public async Task<(IReadOnlyList<EventRecord> Events, FeedCursor Next)> ReadAsync(
        string? tenantId, FeedCursor cursor, int limit, CancellationToken cancellationToken)
    {
        var feed = await FeedAsync(cancellationToken);
        string[] partitions = tenantId is null ? Enumerable.Range(0, ShardCount).Select(ShardName).ToArray() : [tenantId];
        var positions = cursor.LegacyTicks is { } ticks
            ? await Task.WhenAll(partitions.Select(p => PositionAtAsync(feed, p, ticks, cancellationToken)))
            : cursor.Positions;
        var settled = clock.GetUtcNow() - SettleTime;
        var rows = await Task.WhenAll(partitions.Select((p, i) => ReadPartitionAsync(feed, p, positions[i], limit, settled, cancellationToken)));

        var next = (long[])positions.Clone();
        var heads = new int[rows.Length];
        var events = new List<EventRecord>(limit);
        while (events.Count < limit)
        {
            var best = -1;
            for (var i = 0; i < rows.Length; i++)
            {
                if (heads[i] == rows[i].Count) continue;
                if (best < 0 || Before(rows[i][heads[i]], rows[best][heads[best]])) best = i;
            }
            if (best < 0) break;
            var row = rows[best][heads[best]++];
            events.Add(row.Event);
            next[best] = row.Sequence;
        }
        return (events, new FeedCursor(next, null));
    }

    private static bool Before(FeedRow a, FeedRow b) =>
        a.EnteredTicks != b.EnteredTicks ? a.EnteredTicks < b.EnteredTicks : string.CompareOrdinal(a.Event.Id, b.Event.Id) < 0;

    private sealed record FeedRow(long Sequence, long EnteredTicks, EventRecord Event);

    private static async Task<List<FeedRow>> ReadPartitionAsync(TableClient feed, string partition, long after, int limit,
        DateTimeOffset settled, CancellationToken cancellationToken)
    {
        var filter = $"PartitionKey eq '{TableKey.Quote(partition)}' and RowKey gt '{SequenceRow(after)}' and RowKey lt '{SequenceKind}}}'";
        var rows = new List<FeedRow>();
        await foreach (var entity in feed.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(limit, 1000), cancellationToken: cancellationToken))
        {
            var record = EventRecord.FromEntity(entity);
            // Stop, never skip: the rows after a held-back one wait with it.
            if (record.OccurredAt > settled) break;
            rows.Add(new FeedRow(entity.GetInt64("Sequence") ?? 0, entity.GetInt64("EnteredTicks") ?? 0, record));
            if (rows.Count == limit) break;
        }
        return rows;
    }

    /// <summary>
    /// The position just before the first row that entered <paramref name="partition"/> after
    /// <paramref name="ticks"/>. The counter is read first: every row up to it is visible, so the
    /// search never passes a row still being written.
    /// </summary>
    private static async Task<long> PositionAtAsync(TableClient feed, string partition, long ticks, CancellationToken cancellationToken)
    {
        var counter = await feed.GetEntityIfExistsAsync<TableEntity>(partition, CounterRow, cancellationToken: cancellationToken);
        var last = counter.HasValue ? counter.Value!.GetInt64("Last") ?? 0 : 0;
        var filter = $"PartitionKey eq '{TableKey.Quote(partition)}' and RowKey gt '{SequenceRow(0)}' and RowKey le '{SequenceRow(last)}'"
                     + $" and EnteredTicks gt {ticks.ToString(CultureInfo.InvariantCulture)}L";
        await foreach (var entity in feed.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["Sequence"], cancellationToken: cancellationToken))
            return (entity.GetInt64("Sequence") ?? 1) - 1;
        return last;
    }
}
