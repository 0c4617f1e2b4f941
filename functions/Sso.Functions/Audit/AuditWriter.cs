using Azure.Data.Tables;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>
/// Writes audit rows after the answer, in batches: rows posted within
/// <see cref="AuditOptions.BatchWindow"/> (real time: it only bounds how long a row waits) are
/// grouped by partition and written in transactions of at most 100 rows, partitions side by side.
/// A failed transaction is retried (<see cref="Attempts"/> in all); a row that still fails is
/// logged (type, tenant and the failure's kind, never the row) and dropped: the audit trail never
/// fails the request it describes.
///
/// What a crash can lose: the rows still in memory, at most one batch window's worth (plus the
/// batch being written), and the rows of a write that failed after its retries.
/// </summary>
public sealed partial class AuditWriter(AuditStore store, AuditOptions options, DailyActivityCounter dailyActivity, ILogger<AuditWriter> logger)
    : BatchingWriter<AuditRecord>(options.BatchWindow, MaxBatchSize)
{
    public const int Attempts = 3;
    private const int MaxBatchSize = 1000;
    private static readonly TimeSpan WriteDeadline = TimeSpan.FromSeconds(5);

    /// <summary>Hands a row to the writer; returns at once and never throws.</summary>
    public void Post(AuditRecord record)
    {
        if (!TryPost(record)) LogWriteFailed(logger, record.Type, record.Partition, "ShuttingDown", 0);
    }

    protected override Task WriteBatchAsync(List<AuditRecord> batch, CancellationToken stoppingToken) => WriteAsync(batch, stoppingToken);

    private async Task WriteAsync(List<AuditRecord> batch, CancellationToken stoppingToken)
    {
        if (batch.Count == 0) return;
        await Task.WhenAll(batch.GroupBy(r => r.Partition).SelectMany(p => p.Chunk(100)).Select(chunk => WriteChunkAsync(chunk, stoppingToken)));
        // The overview's per-day counts, kept here so no page view scans the trail.
        dailyActivity.Count(batch);
        try
        {
            await dailyActivity.WriteAsync(stoppingToken);
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the counts of this batch go with the process, as unwritten rows would.
        }
    }

    private async Task WriteChunkAsync(AuditRecord[] chunk, CancellationToken stoppingToken)
    {
        var pending = chunk.ToList();
        var failures = 0;
        while (pending.Count > 0)
        {
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                deadline.CancelAfter(WriteDeadline);
                await store.AppendAsync(pending, deadline.Token);
                return;
            }
            catch (TableTransactionFailedException e) when (e.Status == 409 && e.FailedTransactionActionIndex is { } index && index < pending.Count)
            {
                pending.RemoveAt(index);   // written by an attempt that timed out after it landed
            }
            catch (Exception) when (++failures < Attempts && !stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                foreach (var record in pending)
                    LogWriteFailed(logger, record.Type, record.Partition, e.GetType().Name, (e as Azure.RequestFailedException)?.Status ?? 0);
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit row not written: {AuditType} (tenant {TenantId}) failed with {FailureKind} {Status}")]
    private static partial void LogWriteFailed(ILogger logger, string auditType, string tenantId, string failureKind, int status);
}
