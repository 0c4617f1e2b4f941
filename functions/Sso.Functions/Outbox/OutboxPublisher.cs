using Azure;
using Azure.Data.Tables;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>Events whose outbox rows committed in <paramref name="OutboxPartition"/> of table <paramref name="OutboxTable"/>.</summary>
public sealed record CommittedEvents(string OutboxTable, string OutboxPartition, IReadOnlyList<EventRecord> Events);

/// <summary>
/// Publishes committed events off the request path. A store that committed a change with its
/// outbox rows posts the events here and returns: the answer waits for none of the feed copies,
/// the enqueue or the outbox deletes. The publisher collects what is posted for
/// <see cref="OutboxOptions.BatchWindow"/> (real time, not the service clock: it only bounds
/// latency) or up to <see cref="OutboxOptions.MaxBatchSize"/> events, then for the batch:
/// copies the events into the feed (<see cref="EventFeedStore.AddAsync"/>, partitions side by
/// side), enqueues them in one send (<see cref="EventDispatcher"/>, message id = event id), and
/// deletes the outbox rows (transactions of at most 100 per partition, side by side). Batches run
/// one after another, so events keep the order they were posted in.
///
/// The outbox row is the guarantee: a failure, or a crash with events still in memory, leaves the
/// rows, and <see cref="OutboxSweep"/> republishes them through <see cref="PublishAsync"/>. Every
/// step is idempotent (the feed keeps an event once per partition, the queue's message id is the
/// event id, a missing outbox row is fine), so the sweep racing this publisher is harmless.
/// Nothing posted here can fail the request that posted it.
/// </summary>
public sealed partial class OutboxPublisher(
    EventFeedStore feed, EventDispatcher dispatcher, TableStorage storage, OutboxOptions options, ILogger<OutboxPublisher> logger)
    : BatchingWriter<CommittedEvents>(options.BatchWindow, options.MaxBatchSize)
{
    /// <summary>Hands committed events to the publisher; returns at once and never throws.</summary>
    public void Post(string outboxTable, string outboxPartition, IReadOnlyList<EventRecord> events)
    {
        if (events.Count == 0) return;
        if (!TryPost(new CommittedEvents(outboxTable, outboxPartition, events)))
            LogNotPosted(logger, outboxPartition, events.Count);   // shutting down: the rows wait for the sweep
    }

    protected override int SizeOf(CommittedEvents item) => item.Events.Count;

    // Stopping cancels a batch still being published: its events are in the outbox, for the sweep.
    protected override Task WriteBatchAsync(List<CommittedEvents> batch, CancellationToken stoppingToken) => PublishSafelyAsync(batch, stoppingToken);

    private async Task PublishSafelyAsync(List<CommittedEvents> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return;
        try
        {
            await PublishAsync(batch, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogPublishDeferred(logger, batch.Sum(b => b.Events.Count), e);
        }
    }

    /// <summary>
    /// Feed, queue, then outbox deletes, in that order: an outbox row goes only once its event is
    /// in the feed and on the queue. Throws when a step fails; the rows stay for the sweep.
    /// </summary>
    public async Task PublishAsync(IReadOnlyList<CommittedEvents> batch, CancellationToken cancellationToken)
    {
        var events = batch.SelectMany(b => b.Events).DistinctBy(e => e.Id).ToList();
        if (events.Count == 0) return;
        await feed.AddAsync(events, cancellationToken);
        await dispatcher.EnqueueAsync(events, cancellationToken);
        await Task.WhenAll(batch
            .GroupBy(b => (b.OutboxTable, b.OutboxPartition))
            .Select(g => DeleteOutboxRowsAsync(g.Key.OutboxTable, g.Key.OutboxPartition,
                g.SelectMany(b => b.Events).Select(e => e.Id).Distinct().ToList(), cancellationToken)));
    }

    private async Task DeleteOutboxRowsAsync(string tableName, string partition, List<string> eventIds, CancellationToken cancellationToken)
    {
        var table = await storage.GetTableAsync(tableName, cancellationToken);
        foreach (var chunk in eventIds.Chunk(100))
        {
            var pending = chunk.ToList();
            while (pending.Count > 0)
            {
                try
                {
                    // Outbox rows are never updated, so deleting whatever is there is safe.
                    await table.SubmitTransactionAsync(pending.Select(id => new TableTransactionAction(TableTransactionActionType.Delete,
                        new TableEntity(partition, TableKey.Row(EventRecord.OutboxKind, id)), ETag.All)), cancellationToken);
                    pending.Clear();
                }
                catch (TableTransactionFailedException e) when (e.Status == 404)
                {
                    // Another publisher (the sweep, or this one before a retry) deleted that row first.
                    if (e.FailedTransactionActionIndex is { } index && index < pending.Count) pending.RemoveAt(index);
                    else break;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} published events stay in their outbox for the sweep")]
    private static partial void LogPublishDeferred(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} events of outbox partition {Partition} not posted (shutting down); they stay in the outbox for the sweep")]
    private static partial void LogNotPosted(ILogger logger, string partition, int count);
}
