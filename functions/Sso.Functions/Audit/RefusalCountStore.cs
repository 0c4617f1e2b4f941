using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>
/// Table "&lt;audit table&gt;refusals": PartitionKey the tenant (or the global partition), RowKey
/// <c>hour|reason|connection|instance</c>, so an hour range is a RowKey range. Rows past the audit
/// retention are deleted with the audit trail.
/// </summary>
public sealed class RefusalCountStore(TableStorage storage, AuditOptions options)
{
    private Task<TableClient> TableAsync(CancellationToken cancellationToken) =>
        storage.GetTableAsync(options.TableName + "refusals", cancellationToken);

    public async Task WriteAsync(RefusalCountKey key, string instance, long count, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var rowKey = string.Join('|', key.Hour, TableKey.Escape(key.Reason), TableKey.Escape(key.ConnectionId), instance);
        await table.UpsertEntityAsync(new TableEntity(key.Partition, rowKey)
        {
            ["Hour"] = key.Hour,
            ["Reason"] = key.Reason,
            ["ConnectionId"] = key.ConnectionId,
            ["Count"] = count,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>The partition's counts since <paramref name="since"/>, summed over instances, newest hour first.</summary>
    public async Task<IReadOnlyList<JsonObject>> ReadAsync(string partition, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var filter = $"PartitionKey eq '{TableKey.Quote(partition)}' and RowKey ge '{RefusalCountKey.HourOf(since)}'";
        var sums = new Dictionary<(string Hour, string Reason, string ConnectionId), long>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var key = (row.GetString("Hour") ?? "", row.GetString("Reason") ?? "", row.GetString("ConnectionId") ?? "");
            sums[key] = sums.GetValueOrDefault(key) + (row.GetInt64("Count") ?? 0);
        }
        return sums
            .OrderByDescending(s => s.Key.Hour, StringComparer.Ordinal)
            .ThenBy(s => s.Key.Reason, StringComparer.Ordinal)
            .ThenBy(s => s.Key.ConnectionId, StringComparer.Ordinal)
            .Select(s => new JsonObject
            {
                ["hour"] = s.Key.Hour + ":00:00Z",
                ["reason"] = s.Key.Reason,
                ["connectionId"] = s.Key.ConnectionId.Length > 0 ? s.Key.ConnectionId : null,
                ["count"] = s.Value,
            })
            .ToList();
    }

    /// <summary>Deletes the rows of hours before <paramref name="before"/>, in every partition.</summary>
    public async Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var deleted = 0;
        await foreach (var row in table.QueryAsync<TableEntity>($"RowKey lt '{RefusalCountKey.HourOf(before)}'",
                           select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, Azure.ETag.All, cancellationToken);
            deleted++;
        }
        return deleted;
    }
}
