using System.Globalization;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>The sign-ins or SCIM requests of one day, of one tenant or of all of them.</summary>
public sealed record DailyActivity(DateOnly Day, string Type, long Success, long Failure);

/// <summary>
/// Table "&lt;audit table&gt;daily": how many <c>signin.attempt</c> and <c>scim.request</c> rows the
/// audit trail got per day, success and failure, so the operator console's overview reads at most
/// a few dozen rows instead of scanning the trail. PartitionKey the tenant, or <see cref="AllTenants"/>
/// for the sum over every tenant; RowKey <c>day|type|instance</c>, one row per writing instance
/// holding that instance's running total (a plain upsert, so instances never contend), so a day
/// range is a RowKey range. Written by <see cref="AuditWriter"/> after each batch, off the request path.
/// </summary>
public sealed class DailyActivityStore(TableStorage storage, AuditOptions options)
{
    /// <summary>The partition that counts every tenant's rows (and the global partition's).</summary>
    public const string AllTenants = "_all";

    public static readonly IReadOnlyList<string> CountedTypes = [AuditTypes.SignInAttempt, AuditTypes.ScimRequest];

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) =>
        storage.GetTableAsync(options.TableName + "daily", cancellationToken);

    public static string DayOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public async Task WriteAsync(string partition, string day, string type, string instance, long success, long failure,
        CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(partition, string.Join('|', day, type, instance))
        {
            ["Day"] = day,
            ["Type"] = type,
            ["Success"] = success,
            ["Failure"] = failure,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>The partition's counts from <paramref name="since"/> on, summed over instances, one row per day and type that has any.</summary>
    public async Task<IReadOnlyList<DailyActivity>> ReadAsync(string partition, DateOnly since, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var filter = $"PartitionKey eq '{TableKey.Quote(partition)}' and RowKey ge '{since.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}'";
        var sums = new Dictionary<(string Day, string Type), (long Success, long Failure)>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["Day", "Type", "Success", "Failure"],
                           cancellationToken: cancellationToken))
        {
            var key = (row.GetString("Day") ?? "", row.GetString("Type") ?? "");
            var (success, failure) = sums.GetValueOrDefault(key);
            sums[key] = (success + (row.GetInt64("Success") ?? 0), failure + (row.GetInt64("Failure") ?? 0));
        }
        return sums
            .Where(s => DateOnly.TryParseExact(s.Key.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            .Select(s => new DailyActivity(DateOnly.ParseExact(s.Key.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture), s.Key.Type,
                s.Value.Success, s.Value.Failure))
            .OrderBy(a => a.Day).ThenBy(a => a.Type, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Deletes the rows of days before <paramref name="before"/>, in every partition.</summary>
    public async Task<int> DeleteBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var deleted = 0;
        await foreach (var row in table.QueryAsync<TableEntity>($"RowKey lt '{DayOf(before)}'", select: ["PartitionKey", "RowKey"],
                           cancellationToken: cancellationToken))
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, Azure.ETag.All, cancellationToken);
            deleted++;
        }
        return deleted;
    }
}

/// <summary>
/// This instance's running daily totals, kept by the <see cref="AuditWriter"/>'s single reader:
/// each batch is counted, then the totals it changed are written. A day more than two days before
/// the latest one counted, and written, is dropped from memory (its rows hold the final counts).
/// </summary>
public sealed partial class DailyActivityCounter(DailyActivityStore store, ILogger<DailyActivityCounter> logger)
{
    private static readonly TimeSpan WriteDeadline = TimeSpan.FromSeconds(5);

    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];
    private readonly Dictionary<(string Partition, string Day, string Type), (long Success, long Failure)> _totals = new();
    private readonly HashSet<(string Partition, string Day, string Type)> _changed = new();

    public void Count(IEnumerable<AuditRecord> records)
    {
        foreach (var record in records)
        {
            if (!DailyActivityStore.CountedTypes.Contains(record.Type)) continue;
            var day = DailyActivityStore.DayOf(record.OccurredAt);
            var success = record.Result == "success";
            foreach (var partition in new[] { record.Partition, DailyActivityStore.AllTenants })
            {
                var key = (partition, day, record.Type);
                var (s, f) = _totals.GetValueOrDefault(key);
                _totals[key] = success ? (s + 1, f) : (s, f + 1);
                _changed.Add(key);
            }
        }
    }

    /// <summary>Writes the totals that changed since the last write; a failed write is logged and retried after the next batch.</summary>
    public async Task WriteAsync(CancellationToken cancellationToken)
    {
        if (_changed.Count == 0) return;
        var latestDay = _changed.Max(k => k.Day)!;
        // A hung storage must not hold up the audit writer behind it.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(WriteDeadline);
        await Task.WhenAll(_changed.ToList().Select(async key =>
        {
            var (success, failure) = _totals[key];
            try
            {
                await store.WriteAsync(key.Partition, key.Day, key.Type, _instance, success, failure, deadline.Token);
                lock (_changed) _changed.Remove(key);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Counts are a convenience of the overview: a failure is logged, never thrown into the audit writer.
                LogWriteFailed(logger, key.Partition, e.GetType().Name);
            }
        }));
        // A row of yesterday can still come in just after midnight (its request began before): a
        // total restarted from zero would overwrite this instance's row, so two days are kept.
        var keepFrom = DateOnly.ParseExact(latestDay, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(-2)
            .ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        foreach (var key in _totals.Keys.Where(k => string.CompareOrdinal(k.Day, keepFrom) < 0 && !_changed.Contains(k)).ToList())
            _totals.Remove(key);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Daily activity counts not written (tenant {TenantId}): {FailureKind}; retried after the next batch")]
    private static partial void LogWriteFailed(ILogger logger, string tenantId, string failureKind);
}
