using Azure.Data.Tables;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>A table whose partitions hold outbox rows (<c>event|</c>); each feature that commits events registers its own.</summary>
public sealed record OutboxTable(string Name);

/// <summary>
/// Republishes outbox rows that a crash between commit and publish left behind (see
/// <see cref="EventFeedStore"/>). Publishing is idempotent, so racing a live writer is harmless.
/// </summary>
public sealed partial class OutboxSweep(TableStorage storage, EventFeedStore feed, IEnumerable<OutboxTable> tables, ILogger<OutboxSweep> logger)
{
    public static TimerFunction Function { get; } = new("EventOutboxSweep", "0 * * * * *", RunAsync);

    private static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await services.GetRequiredService<OutboxSweep>()
            .SweepAsync(services.GetRequiredService<TimeProvider>().GetUtcNow() - TimeSpan.FromSeconds(30), cancellationToken);
    }

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
            foreach (var partition in pending.GroupBy(p => p.Partition))
            {
                await feed.PublishAsync(table, partition.Key, partition.Select(p => p.Event).ToList(), cancellationToken);
                published += partition.Count();
            }
        }
        if (published > 0) LogRepublished(logger, published);
        return published;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Republished {Count} events left in an outbox")]
    private static partial void LogRepublished(ILogger logger, int count);
}
