using Azure.Data.Tables;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>A table whose partitions hold outbox rows (<c>event|</c>); each feature that commits events registers its own.</summary>
public sealed record OutboxTable(string Name);

/// <summary>
/// Republishes outbox rows older than <see cref="OutboxOptions.SweepAfter"/>: what a crash with
/// events still in the publisher's memory, or a failed publish, left behind. It goes through the
/// publisher's own steps (<see cref="OutboxPublisher.PublishAsync"/>), which are idempotent, so
/// racing the live publisher is harmless: the feed keeps each event once per partition, and a
/// republished event enters the feed after every cursor that was handed out before it.
/// </summary>
public sealed partial class OutboxSweep(
    TableStorage storage, OutboxPublisher publisher, IEnumerable<OutboxTable> tables, OutboxOptions options, ILogger<OutboxSweep> logger)
{
    public static TimerFunction Function { get; } = new("EventOutboxSweep", "0 * * * * *", RunAsync);

    private static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var sweep = services.GetRequiredService<OutboxSweep>();
        await sweep.SweepAsync(services.GetRequiredService<TimeProvider>().GetUtcNow() - sweep.SweepAfter, cancellationToken);
    }

    public TimeSpan SweepAfter => options.SweepAfter;

    /// <summary>Republishes every outbox row whose event occurred at or before <paramref name="olderThan"/>; returns how many.</summary>
    public async Task<int> SweepAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        var published = 0;
        foreach (var name in tables.Select(t => t.Name).Distinct())
        {
            var table = await storage.GetTableAsync(name, cancellationToken);
            var pending = new List<(string Partition, EventRecord Event)>();
            await foreach (var row in table.QueryAsync<TableEntity>(
                               $"RowKey ge '{EventRecord.OutboxKind}|' and RowKey lt '{EventRecord.OutboxKind}}}'", cancellationToken: cancellationToken))
            {
                var record = EventRecord.FromEntity(row);
                if (record.OccurredAt <= olderThan) pending.Add((row.PartitionKey, record));
            }
            foreach (var chunk in pending.Chunk(options.MaxBatchSize))
            {
                await publisher.PublishAsync(chunk.GroupBy(p => p.Partition)
                    .Select(p => new CommittedEvents(name, p.Key, p.Select(e => e.Event).ToList())).ToList(), cancellationToken);
                published += chunk.Length;
            }
        }
        if (published > 0) LogRepublished(logger, published);
        return published;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Republished {Count} events left in an outbox")]
    private static partial void LogRepublished(ILogger logger, int count);
}
