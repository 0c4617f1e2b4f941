using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.Deprovisioning;

/// <summary>
/// The mass-deprovisioning guard's table ("deprovisionholds"), one partition per directory:
/// <list type="bullet">
/// <item><c>deprovisioned|&lt;ticks&gt;|&lt;user&gt;</c>: one marker per deprovisioning, keyed by when it happened,
/// written (idempotently) when its event is dispatched; the sliding window is a RowKey range.</item>
/// <item><c>guard</c> (<see cref="GuardRow"/>): the directory's current hold and the floor below which markers
/// no longer count (the last trigger or the end of the last hold, so one burst triggers once).</item>
/// <item><c>hold|&lt;id&gt;</c> (<see cref="HoldRow"/>): what triggered a hold and how it ended.</item>
/// <item><c>parked|&lt;hold&gt;|&lt;message id&gt;</c> (<see cref="ParkedItem"/>): work that would have run.</item>
/// <item><c>usercount</c>: the directory's active users, recounted at most once a minute.</item>
/// <item><c>event|</c>: the outbox for the guard's own events (the <see cref="OutboxSweep"/> covers this table).</item>
/// </list>
/// </summary>
public sealed class MassDeprovisionHoldStore(TableStorage storage)
{
    public const string TableName = TableNames.DeprovisionHolds;

    private const string UserCountRow = "usercount";
    private const string MarkerKind = "deprovisioned";

    public Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    public static async Task<GuardRow?> ReadGuardAsync(TableClient table, string directoryId, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(directoryId, GuardRow.RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? GuardRow.FromEntity(row.Value!) : null;
    }

    /// <summary>Adds the guard row, or replaces it if <paramref name="before"/> is still current.</summary>
    public static TableTransactionAction WriteGuard(GuardRow? before, GuardRow after, DateTimeOffset now) => before is null
        ? new(TableTransactionActionType.Add, after.ToEntity(now))
        : new(TableTransactionActionType.UpdateReplace, after.ToEntity(now), before.ETag);

    public static async Task<HoldRow?> FindHoldAsync(TableClient table, string directoryId, string holdId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(HoldRow.RowKeyOf(holdId))) return null;
        var row = await table.GetEntityIfExistsAsync<TableEntity>(directoryId, HoldRow.RowKeyOf(holdId), cancellationToken: cancellationToken);
        return row.HasValue ? HoldRow.FromEntity(row.Value!) : null;
    }

    public static async Task<List<HoldRow>> ListHoldsAsync(TableClient table, string directoryId, CancellationToken cancellationToken)
    {
        var holds = new List<HoldRow>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(directoryId, HoldRow.Kind), cancellationToken: cancellationToken))
            holds.Add(HoldRow.FromEntity(row));
        return holds;
    }

    /// <summary>
    /// The guard rows of every directory whose hold is not yet decided (held, releasing, cancelling).
    /// A cross-partition query on RowKey: it reads the whole table's keys server-side, so it is for
    /// an operator's page, never for the request path.
    /// </summary>
    public static async Task<List<GuardRow>> ListUndecidedGuardsAsync(TableClient table, CancellationToken cancellationToken)
    {
        var guards = new List<GuardRow>();
        var statuses = string.Join(" or ", new[] { HoldStatus.Held, HoldStatus.Releasing, HoldStatus.Cancelling }
            .Select(s => $"Status eq '{s.Name()}'"));
        await foreach (var row in table.QueryAsync<TableEntity>($"RowKey eq '{GuardRow.RowKey}' and ({statuses})",
                           cancellationToken: cancellationToken))
            guards.Add(GuardRow.FromEntity(row));
        return guards;
    }

    private static string Ticks(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    public static Task RecordDeprovisionedAsync(TableClient table, string directoryId, DateTimeOffset at, string userId, string eventId,
        CancellationToken cancellationToken) =>
        table.UpsertEntityAsync(new TableEntity(directoryId, $"{MarkerKind}|{Ticks(at)}|{TableKey.Escape(userId)}")
        {
            ["UserId"] = userId,
            ["EventId"] = eventId,
        }, TableUpdateMode.Replace, cancellationToken);

    /// <summary>The users deprovisioned after <paramref name="windowStart"/>, each with the ticks of their first deprovisioning in it.</summary>
    public static async Task<Dictionary<string, long>> ReadWindowAsync(TableClient table, string directoryId, DateTimeOffset windowStart,
        TimeSpan window, CancellationToken cancellationToken)
    {
        var users = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(directoryId)}' and RowKey gt '{MarkerKind}|{Ticks(windowStart)}|~' and RowKey lt '{MarkerKind}}}'",
                           select: ["RowKey", "UserId"], cancellationToken: cancellationToken))
            users.TryAdd(row.GetString("UserId"), long.Parse(row.RowKey.AsSpan(MarkerKind.Length + 1, 19), CultureInfo.InvariantCulture));
        // Markers that left every window are dropped as they are passed (a few per dispatch).
        var old = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(directoryId)}' and RowKey gt '{MarkerKind}|' and RowKey lt '{MarkerKind}|{Ticks(windowStart - window)}'",
                           maxPerPage: 100, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            old.Add(row.RowKey);
            if (old.Count == 100) break;
        }
        try
        {
            if (old.Count > 0)
                await table.SubmitTransactionAsync(old.Select(k => new TableTransactionAction(TableTransactionActionType.Delete,
                    new TableEntity(directoryId, k), ETag.All)), cancellationToken);
        }
        catch (TableTransactionFailedException e) when (e.Status == 404)
        {
            // A concurrent dispatch dropped them first.
        }
        return users;
    }

    public static async Task<(int Active, DateTimeOffset CountedAt)?> ReadUserCountAsync(TableClient table, string directoryId,
        CancellationToken cancellationToken)
    {
        var cached = await table.GetEntityIfExistsAsync<TableEntity>(directoryId, UserCountRow, cancellationToken: cancellationToken);
        return cached.HasValue && cached.Value!.GetDateTimeOffset("CountedAt") is { } countedAt
            ? (cached.Value.GetInt32("Active") ?? 0, countedAt)
            : null;
    }

    public static Task WriteUserCountAsync(TableClient table, string directoryId, int active, DateTimeOffset countedAt,
        CancellationToken cancellationToken) =>
        table.UpsertEntityAsync(new TableEntity(directoryId, UserCountRow) { ["Active"] = active, ["CountedAt"] = countedAt },
            TableUpdateMode.Replace, cancellationToken);

    /// <summary>The hold's items still parked, whole (queue, kind, body), in the order they were caused.</summary>
    public static async Task<List<ParkedItem>> PendingAsync(TableClient table, string directoryId, string holdId, CancellationToken cancellationToken)
    {
        var pending = new List<ParkedItem>();
        var prefix = ParkedItem.Prefix(holdId);
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(directoryId)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}' and Status eq '{ParkedStatus.Parked.Name()}'",
                           cancellationToken: cancellationToken))
            pending.Add(ParkedItem.FromEntity(row, holdId));
        return pending;
    }

    /// <summary>Every item of the hold, without bodies: queue, user and status.</summary>
    public static async Task<List<ParkedItem>> ParkedItemsAsync(TableClient table, string directoryId, string holdId, CancellationToken cancellationToken)
    {
        var items = new List<ParkedItem>();
        var prefix = ParkedItem.Prefix(holdId);
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(directoryId)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
                           select: ["Queue", "UserId", "UserName", "Status"], cancellationToken: cancellationToken))
            items.Add(ParkedItem.FromEntity(row, holdId));
        return items;
    }

    public static async Task MarkAsync(TableClient table, IEnumerable<ParkedItem> items, ParkedStatus status, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(100))
            await table.SubmitTransactionAsync(chunk.Select(item => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                new TableEntity(item.DirectoryId, item.RowKey) { ["Status"] = status.Name() }, ETag.All)), cancellationToken);
    }

    /// <summary>Deletes the directory's guard partition (its tenant was deleted).</summary>
    public async Task PurgeAsync(string directoryId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>($"PartitionKey eq '{TableKey.Quote(directoryId)}'", select: ["RowKey"],
                           cancellationToken: cancellationToken))
            keys.Add(row.RowKey);
        foreach (var chunk in keys.Chunk(100))
            await table.SubmitTransactionAsync(chunk.Select(k =>
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(directoryId, k), ETag.All)), cancellationToken);
    }
}
