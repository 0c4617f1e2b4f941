using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>
/// The audit trail, table "audit": one partition per tenant (<see cref="AuditRecord.GlobalPartition"/>
/// for what belongs to none), RowKey the record id without its prefix, which sorts newest first.
/// Rows are written once and never updated; the retention sweep deletes them by key range.
/// </summary>
public sealed class AuditStore(TableStorage storage, AuditOptions options)
{
    public const int MaxPageSize = 200;

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(options.TableName, cancellationToken);

    /// <summary>Adds rows of one partition (at most 100) in one transaction; a single row already there counts as written.</summary>
    public async Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        if (records.Count == 1)
        {
            try
            {
                await table.AddEntityAsync(records[0].ToEntity(), cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                // Written by an attempt that timed out after it landed.
            }
            return;
        }
        await table.SubmitTransactionAsync(records.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r.ToEntity())),
            cancellationToken);
    }

    /// <summary>
    /// A page of one partition, newest first, optionally of one type. <paramref name="after"/> is the id
    /// of the last row of the previous page; rows written since then sort before it, so paging on
    /// never repeats or skips a row. The next cursor is null once the partition is exhausted.
    /// </summary>
    public Task<(IReadOnlyList<JsonObject> Rows, string? NextCursor)> ReadAsync(
        string partition, string? type, string? after, int limit, CancellationToken cancellationToken) =>
        ReadAsync(partition, new AuditQuery(type, null, null, null, after, limit), cancellationToken);

    /// <summary>The most rows one page reads while looking for rows of a <see cref="AuditQuery.Result"/>.</summary>
    public const int MaxRowsScannedPerPage = 1000;

    /// <summary>
    /// A page as above, within a time range (a RowKey range: ids sort by time) and optionally of one
    /// result. The result is not a column, so it is matched on the rows read, at most
    /// <see cref="MaxRowsScannedPerPage"/> of them per page; a page cut short there still has a next
    /// cursor (the last row read), so paging on goes further back.
    /// </summary>
    public async Task<(IReadOnlyList<JsonObject> Rows, string? NextCursor)> ReadAsync(
        string partition, AuditQuery query, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var filter = $"PartitionKey eq '{TableKey.Quote(partition)}'";
        if (query.After is not null) filter += $" and RowKey gt '{TableKey.Quote(query.After[AuditRecord.IdPrefix.Length..])}'";
        if (query.Until is { } until) filter += $" and RowKey gt '{AuditRecord.RowKeyBefore(until)}'";
        if (query.Since is { } since) filter += $" and RowKey lt '{AuditRecord.RowKeyBefore(since)}'";
        if (query.Type is not null) filter += $" and Type eq '{TableKey.Quote(query.Type)}'";
        var rows = new List<JsonObject>(query.Limit);
        var more = false;
        string? lastRead = null;
        var scanned = 0;
        var pageSize = query.Result is null ? Math.Min(query.Limit + 1, 1000) : 1000;
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize,
                           select: ["Record"], cancellationToken: cancellationToken))
        {
            if (rows.Count == query.Limit || (query.Result is not null && scanned == MaxRowsScannedPerPage))
            {
                more = true;
                break;
            }
            var row = AuditRecord.ReadJson(entity);
            scanned++;
            lastRead = row["id"]?.GetValue<string>();
            if (query.Result is null || row["result"]?.GetValue<string>() == query.Result) rows.Add(row);
        }
        if (!more) return (rows, null);
        return (rows, rows.Count == query.Limit ? rows[^1]["id"]?.GetValue<string>() : lastRead);
    }

    /// <summary>
    /// Deletes every row older than its partition's retention, in per-partition batches of 100.
    /// One cross-partition query by RowKey finds them (a daily scan of the keys of old rows only);
    /// <paramref name="retentionOf"/> gives each partition's retention, and <paramref name="shortest"/>
    /// bounds the query so rows younger than every retention are never read.
    /// </summary>
    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, TimeSpan shortest, Func<string, TimeSpan> retentionOf,
        CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var filter = $"RowKey gt '{AuditRecord.RowKeyBefore(now - shortest)}'";
        var deleted = 0;
        var batch = new List<TableTransactionAction>(100);
        string? batchPartition = null;
        var cutoffs = new Dictionary<string, string>();

        async Task FlushAsync()
        {
            if (batch.Count == 0) return;
            try
            {
                await table.SubmitTransactionAsync(batch, cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status == 404)
            {
                // Another sweep deleted a row of the batch first; the rest go on the next run.
            }
            deleted += batch.Count;
            batch.Clear();
        }

        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"],
                           cancellationToken: cancellationToken))
        {
            if (!cutoffs.TryGetValue(entity.PartitionKey, out var cutoff))
                cutoffs[entity.PartitionKey] = cutoff = AuditRecord.RowKeyBefore(now - retentionOf(entity.PartitionKey));
            if (string.CompareOrdinal(entity.RowKey, cutoff) <= 0) continue;
            if (batchPartition != entity.PartitionKey || batch.Count == 100)
            {
                await FlushAsync();
                batchPartition = entity.PartitionKey;
            }
            // Audit rows are never updated, so deleting whatever is there is safe.
            batch.Add(new TableTransactionAction(TableTransactionActionType.Delete,
                new TableEntity(entity.PartitionKey, entity.RowKey), ETag.All));
        }
        await FlushAsync();
        return deleted;
    }
}
