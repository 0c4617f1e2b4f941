using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>
/// Refusals of anonymous traffic (issue 18.10): an ACS post with no pending sign-in of ours and no
/// signature of the connection's IdP, an <c>/oauth/authorize</c> request with bad parameters. Such
/// a request could come from anyone, so it gets no audit row, event or webhook of its own (a script
/// would otherwise flush the tenant's "last 50 sign-in attempts"); it is counted instead, per
/// tenant (or <see cref="AuditRecord.GlobalPartition"/>), hour, reason and connection.
/// <para>
/// Counts are kept in memory and written every <see cref="FlushInterval"/> (and before a read and
/// at shutdown) as one row per instance, so instances never contend and a write is a plain upsert
/// of this instance's running total. A crash loses at most one interval's counts.
/// </para>
/// </summary>
public sealed partial class RefusalCounter(RefusalCountStore store, TimeProvider clock, ILogger<RefusalCounter> logger) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(30);

    /// <summary>A row per instance: counts of one process never overwrite another's.</summary>
    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];

    private readonly ConcurrentDictionary<RefusalCountKey, long> _counts = new();
    private readonly ConcurrentDictionary<RefusalCountKey, long> _written = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);

    /// <summary>Counts one refusal; returns at once and never throws.</summary>
    public void Count(string partition, string reason, string? connectionId = null)
    {
        var key = new RefusalCountKey(partition, RefusalCountKey.HourOf(clock.GetUtcNow()), reason, connectionId ?? "");
        _counts.AddOrUpdate(key, 1, (_, count) => count + 1);
    }

    /// <summary>Writes this instance's counts that changed since the last flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            var currentHour = RefusalCountKey.HourOf(clock.GetUtcNow());
            foreach (var (key, count) in _counts)
            {
                if (!_written.TryGetValue(key, out var written) || written != count)
                {
                    try
                    {
                        await store.WriteAsync(key, _instance, count, cancellationToken);
                        _written[key] = count;
                    }
                    catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or IOException or TimeoutException)
                    {
                        LogFlushFailed(logger, key.Partition, e.GetType().Name);
                        continue;
                    }
                }
                // An hour that is over and written is done with: its row holds the final count.
                if (string.CompareOrdinal(key.Hour, currentHour) < 0 && _written.TryGetValue(key, out var done) && done == count)
                {
                    _counts.TryRemove(KeyValuePair.Create(key, count));
                    _written.TryRemove(key, out _);
                }
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refusal counts not written (tenant {TenantId}): {FailureKind}; retried at the next flush")]
    private static partial void LogFlushFailed(ILogger logger, string tenantId, string failureKind);
}

public readonly record struct RefusalCountKey(string Partition, string Hour, string Reason, string ConnectionId)
{
    public static string HourOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture);
}

