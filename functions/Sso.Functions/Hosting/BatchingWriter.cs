using System.Threading.Channels;

namespace Sso.Functions.Hosting;

/// <summary>
/// Work written after the answer, in batches (the audit rows, the outbox's publishing): a caller
/// posts an item and returns at once; the writer collects what is posted until the batch window
/// closes (real time, not the service clock: it only bounds how long an item waits), the batch
/// reaches its size or a flush is asked for, then hands the batch to <see cref="WriteBatchAsync"/>.
/// Batches run one after another, in the order their items were posted. A clean shutdown writes
/// what is left, within the host's shutdown timeout.
/// </summary>
public abstract class BatchingWriter<T>(TimeSpan batchWindow, int maxBatchSize) : BackgroundService
{
    private readonly record struct Entry(T? Item, TaskCompletionSource? Flush);

    private readonly Channel<Entry> _channel = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Writes one batch (never empty). Whatever it throws ends the writer, so it handles its own failures.</summary>
    protected abstract Task WriteBatchAsync(List<T> batch, CancellationToken stoppingToken);

    /// <summary>How much of <c>maxBatchSize</c> an item takes (1 by default).</summary>
    protected virtual int SizeOf(T item) => 1;

    /// <summary>Hands an item to the writer; false when the writer is shutting down.</summary>
    protected bool TryPost(T item) => _channel.Writer.TryWrite(new Entry(item, null));

    /// <summary>Completes once every item posted before the call has been written (or given up on).</summary>
    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _channel.Writer.TryWrite(new Entry(default, done)) ? done.Task.WaitAsync(cancellationToken) : Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _channel.Reader;
        var batch = new List<T>();
        var flushes = new List<TaskCompletionSource>();
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                await CollectAsync(reader, batch, flushes, stoppingToken);
                if (batch.Count > 0) await WriteBatchAsync(batch, stoppingToken);
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

    /// <summary>Takes what is posted until the window closes, the batch is full or a flush is asked for.</summary>
    private async Task CollectAsync(ChannelReader<Entry> reader, List<T> batch, List<TaskCompletionSource> flushes, CancellationToken stoppingToken)
    {
        using var window = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        window.CancelAfter(batchWindow);
        var size = 0;
        while (true)
        {
            while (reader.TryRead(out var entry))
            {
                if (entry.Flush is { } flush)
                {
                    flushes.Add(flush);
                    return;
                }
                batch.Add(entry.Item!);
                size += SizeOf(entry.Item!);
                if (size >= maxBatchSize) return;
            }
            try
            {
                if (!await reader.WaitToReadAsync(window.Token)) return;
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                return;   // the window closed
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // A clean shutdown writes what is left, within the host's shutdown timeout; then the stopping
        // token cancels whatever is still running.
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
}
