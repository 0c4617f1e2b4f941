using Azure.Data.Tables;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Events;

/// <summary>
/// Republishes outbox rows that a crash between commit and publish left behind (see
/// <see cref="EventFeedStore"/>). Publishing is idempotent, so racing a live writer is harmless.
/// </summary>
public static partial class OutboxSweep
{
    /// <summary>Tables whose partitions hold outbox rows.</summary>
    public static readonly IReadOnlyList<string> OutboxTables = ["directory", "authorizationcodes", "connections", MassDeprovisionGuard.TableName];

    public static TimerFunction Function { get; } = new("EventOutboxSweep", "0 * * * * *", RunAsync);

    private static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var published = await SweepAsync(services.GetRequiredService<TableStorage>(), services.GetRequiredService<EventFeedStore>(),
            services.GetRequiredService<TimeProvider>().GetUtcNow() - TimeSpan.FromSeconds(30), cancellationToken);
        if (published > 0) LogRepublished(services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Events"), published);
    }

    public static async Task<int> SweepAsync(TableStorage storage, EventFeedStore feed, DateTimeOffset olderThan,
        CancellationToken cancellationToken)
    {
        var published = 0;
        foreach (var name in OutboxTables)
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
        return published;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Republished {Count} events left in an outbox")]
    private static partial void LogRepublished(ILogger logger, int count);
}
