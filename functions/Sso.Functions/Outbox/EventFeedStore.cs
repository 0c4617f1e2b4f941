using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>
/// The global, ordered event feed.
///
/// Design: a change and its event are written in one transaction in the owner's partition (the
/// outbox row <c>event|&lt;id&gt;</c>; Table transactions never span partitions). Right after the
/// commit the writer copies the event into the feed table ("events"): once under partition "all"
/// and once under the tenant's id, RowKey the time-ordered event id, by idempotent upserts; sends
/// each event to the "events" work queue (<see cref="EventDispatchWorker"/> fans it out to webhooks
/// and deprovisioning tasks); and then deletes the outbox row. Delivery is at least once: a
/// republished event is sent again under the same message id (Service Bus duplicate detection
/// drops it) and every handler downstream is idempotent. <see cref="OutboxSweep"/> republishes outbox rows a crash left behind.
/// Readers page a feed partition by RowKey, which is time order, and stop at events younger than
/// <see cref="SettleTime"/>: an event committed a moment ago may still be on its way into the feed,
/// and a reader that moved its cursor past it would never see it.
/// </summary>
public sealed class EventFeedStore(TableStorage storage, TimeProvider clock, EventDispatcher dispatcher)
{
    public const string AllPartition = "all";
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    private Task<TableClient> FeedAsync(CancellationToken cancellationToken) => storage.GetTableAsync("events", cancellationToken);

    /// <summary>Copies committed outbox events into the feed, then removes them from the outbox.</summary>
    public async Task PublishAsync(TableClient outboxTable, string outboxPartition, IReadOnlyList<EventRecord> events,
        CancellationToken cancellationToken)
    {
        if (events.Count == 0) return;
        var feed = await FeedAsync(cancellationToken);
        foreach (var group in new[] { AllPartition }.Concat(events.Select(e => e.TenantId).Distinct()))
        {
            var actions = events.Where(e => group == AllPartition || e.TenantId == group)
                .Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e.ToFeedEntity(group)));
            foreach (var chunk in actions.Chunk(100))
                await feed.SubmitTransactionAsync(chunk, cancellationToken);
        }
        await dispatcher.EnqueueAsync(events, cancellationToken);
        foreach (var chunk in events.Chunk(100))
        {
            try
            {
                // Outbox rows are never updated, so deleting whatever is there is safe.
                await outboxTable.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(
                    TableTransactionActionType.Delete, new TableEntity(outboxPartition, TableKey.Row(EventRecord.OutboxKind, e.Id)), ETag.All)),
                    cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status == 404)
            {
                // Another publisher (the sweep) got there first.
            }
        }
    }

    /// <summary>
    /// An event that no state row commits with (the delivery worker disabling a webhook):
    /// written straight to the feed and dispatched. The change it reports is already saved, so
    /// a crash between the two loses only the notice, never the change.
    /// </summary>
    public async Task AppendAsync(EventRecord record, CancellationToken cancellationToken)
    {
        var feed = await FeedAsync(cancellationToken);
        await feed.UpsertEntityAsync(record.ToFeedEntity(AllPartition), TableUpdateMode.Replace, cancellationToken);
        await feed.UpsertEntityAsync(record.ToFeedEntity(record.TenantId), TableUpdateMode.Replace, cancellationToken);
        await dispatcher.EnqueueAsync([record], cancellationToken);
    }

    public async Task<(IReadOnlyList<EventRecord> Events, string? NextCursor)> ReadAsync(
        string? tenantId, string? after, int limit, CancellationToken cancellationToken)
    {
        var feed = await FeedAsync(cancellationToken);
        var partition = tenantId ?? AllPartition;
        var settled = EventRecord.NewId(clock.GetUtcNow() - SettleTime)[..23];
        var filter = $"PartitionKey eq '{TableKey.Quote(partition)}' and RowKey lt '{settled}'";
        if (after is { Length: > 0 }) filter += $" and RowKey gt '{TableKey.Quote(after)}'";
        var events = new List<EventRecord>(limit);
        await foreach (var entity in feed.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(limit, 1000), cancellationToken: cancellationToken))
        {
            events.Add(EventRecord.FromEntity(entity));
            if (events.Count == limit) break;
        }
        // The cursor is the last id returned; with no new events the caller keeps its cursor.
        return (events, events.Count > 0 ? events[^1].Id : after);
    }
}
