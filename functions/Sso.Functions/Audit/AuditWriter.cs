using System.Threading.Channels;
using Azure.Data.Tables;
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
    : BackgroundService
{
    public const int Attempts = 3;
    private static readonly TimeSpan WriteDeadline = TimeSpan.FromSeconds(5);

    private readonly Channel<object> _channel = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Hands a row to the writer; returns at once and never throws.</summary>
    public void Post(AuditRecord record)
    {
        if (!_channel.Writer.TryWrite(record)) LogWriteFailed(logger, record.Type, record.Partition, "ShuttingDown", 0);
    }

    /// <summary>Completes once every row posted before the call has been written (or given up on).</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _channel.Writer.TryWrite(done) ? done.Task.WaitAsync(cancellationToken) : Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _channel.Reader;
        var batch = new List<AuditRecord>();
        var flushes = new List<TaskCompletionSource>();
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                using (var window = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    window.CancelAfter(options.BatchWindow);
                    var collecting = true;
                    while (collecting)
                    {
                        while (reader.TryRead(out var item))
                        {
                            if (item is TaskCompletionSource flush)
                            {
                                flushes.Add(flush);
                                collecting = false;
                                break;
                            }
                            batch.Add((AuditRecord)item);
                        }
                        if (!collecting || batch.Count >= 1000) break;
                        try
                        {
                            if (!await reader.WaitToReadAsync(window.Token)) break;
                        }
                        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                        {
                            break;   // the window closed
                        }
                    }
                }
                await WriteAsync(batch, stoppingToken);
                foreach (var flush in flushes) flush.TrySetResult();
                batch.Clear();
                flushes.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        foreach (var flush in flushes) flush.TrySetResult();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // A clean shutdown writes what is left, within the host's shutdown timeout.
        _channel.Writer.TryComplete();
        if (ExecuteTask is { } running)
        {
            try
            {
                await running.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await base.StopAsync(cancellationToken);
    }

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
