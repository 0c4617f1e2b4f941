using Azure.Storage.Queues.Models;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Hosting;

/// <summary>
/// Plays the Functions host's part locally: receives from the Storage queues and calls the same
/// queue-function handlers the host would invoke, with the host's retry and poison behaviour
/// (a message that failed <see cref="MaxDeliveryCount"/> times moves to "{queue}-poison").
/// Also runs the timer functions on a fixed interval.
/// </summary>
public sealed partial class LocalQueueDispatcher(
    StorageWorkQueue queues,
    IServiceProvider services,
    LocalDispatcherOptions options,
    ILogger<LocalQueueDispatcher> logger) : BackgroundService
{
    public const int MaxDeliveryCount = StorageDeadLetterQueue.MaxDeliveryCount;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled) return;
        // A loop per queue, side by side, as the host triggers each queue function on its own: a
        // burst that keeps the events or webhook queue busy never holds up the deprovision tasks.
        await Task.WhenAll(FunctionTable.Queues.Select(function => PollQueueAsync(function, stoppingToken)).Append(PollTimersAsync(stoppingToken)));
    }

    private async Task PollQueueAsync(QueueFunction function, CancellationToken stoppingToken)
    {
        var fedByPublisher = function.QueueName == Outbox.EventDispatcher.QueueName;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // The publisher lives in this process: what it holds goes to the events queue before it is read.
                if (fedByPublisher) await services.GetRequiredService<Outbox.OutboxPublisher>().FlushAsync(stoppingToken);
                if (await DrainQueueAsync(function, stoppingToken) == 0) await Task.Delay(options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogDispatcherFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task PollTimersAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await RunTimersAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Task.Delay(options.TimerInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Handles every message visible now, once; returns how many were handled. The tests' drain:
    /// queue by queue, in table order, so work a function queues for a later one is handled in the
    /// same drain (the background loop runs the queues side by side instead).
    /// </summary>
    public async Task<int> DrainOnceAsync(CancellationToken cancellationToken)
    {
        // The publisher lives in this process: what it holds goes to the queues before they are read.
        await services.GetRequiredService<Outbox.OutboxPublisher>().FlushAsync(cancellationToken);
        var handled = 0;
        foreach (var function in FunctionTable.Queues)
            handled += await DrainQueueAsync(function, cancellationToken);
        return handled;
    }

    /// <summary>
    /// Up to <see cref="LocalDispatcherOptions.Concurrency"/> messages of one queue in flight, as the
    /// host runs several invocations at once; a message is received only when a slot is free, so
    /// its visibility timeout starts when its handling can start.
    /// </summary>
    private async Task<int> DrainQueueAsync(QueueFunction function, CancellationToken cancellationToken)
    {
        var queue = await queues.GetQueueAsync(function.QueueName, cancellationToken);
        var handled = 0;
        var inFlight = new List<Task>();
        try
        {
            while (true)
            {
                foreach (var done in inFlight.Where(t => t.IsCompleted).ToList())
                {
                    inFlight.Remove(done);
                    await done;
                }
                var free = options.Concurrency - inFlight.Count;
                QueueMessage[] received = free > 0
                    ? await queue.ReceiveMessagesAsync(Math.Min(32, free), options.VisibilityTimeout, cancellationToken)
                    : [];
                if (received.Length == 0)
                {
                    // Empty only counts once nothing is in flight: a handler may queue more (a retry, the next step).
                    if (inFlight.Count == 0) break;
                    await Task.WhenAny(inFlight);
                    continue;
                }
                handled += received.Length;
                inFlight.AddRange(received.Select(message => HandleAsync(function, queue, message, cancellationToken)));
            }
        }
        finally
        {
            // Never leave a handler running behind a failed drain.
            await Task.WhenAll(inFlight).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        return handled;
    }

    public async Task RunTimersAsync(CancellationToken cancellationToken)
    {
        foreach (var timer in FunctionTable.Timers)
        {
            try
            {
                await timer.Handler(services, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFunctionFailed(logger, timer.FunctionName, e);
            }
        }
    }

    private async Task HandleAsync(QueueFunction function, Azure.Storage.Queues.QueueClient queue, QueueMessage message,
        CancellationToken cancellationToken)
    {
        var envelope = WorkEnvelope.Read(message.Body.ToString());
        if (envelope is null || message.DequeueCount > MaxDeliveryCount)
        {
            await MoveToPoisonAsync(function, message, cancellationToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            return;
        }
        try
        {
            using var scope = services.CreateScope();
            await function.Handler(new WorkItem(envelope.MessageId, envelope.Kind, envelope.Body, (int)message.DequeueCount),
                scope.ServiceProvider, cancellationToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Left on the queue: it becomes visible again after the visibility timeout, as with the host.
            LogFunctionFailed(logger, function.FunctionName, e);
            if (options.RetryImmediately)
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, message.Body, TimeSpan.Zero, cancellationToken);
        }
    }

    private async Task MoveToPoisonAsync(QueueFunction function, QueueMessage message, CancellationToken cancellationToken)
    {
        var poison = await queues.GetQueueAsync(function.QueueName + "-poison", cancellationToken);
        await poison.SendMessageAsync(message.Body.ToString(), cancellationToken);
        LogPoisoned(logger, function.FunctionName, message.MessageId);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Local queue dispatcher failed")]
    private static partial void LogDispatcherFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Function {FunctionName} failed; the message will be retried")]
    private static partial void LogFunctionFailed(ILogger logger, string functionName, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Function {FunctionName}: message {MessageId} moved to the poison queue")]
    private static partial void LogPoisoned(ILogger logger, string functionName, string messageId);
}

public sealed record LocalDispatcherOptions(
    bool Enabled, TimeSpan PollInterval, TimeSpan VisibilityTimeout, TimeSpan TimerInterval, bool RetryImmediately, int Concurrency = 8)
{
    public static LocalDispatcherOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Queues:LocalDispatcher");
        return new LocalDispatcherOptions(
            Enabled: !string.Equals(section["Enabled"], "false", StringComparison.OrdinalIgnoreCase),
            PollInterval: TimeSpan.FromMilliseconds(int.TryParse(section["PollMilliseconds"], out var poll) ? poll : 500),
            VisibilityTimeout: TimeSpan.FromSeconds(int.TryParse(section["VisibilitySeconds"], out var vis) ? vis : 30),
            TimerInterval: TimeSpan.FromSeconds(int.TryParse(section["TimerSeconds"], out var timer) ? timer : 60),
            RetryImmediately: string.Equals(section["RetryImmediately"], "true", StringComparison.OrdinalIgnoreCase),
            Concurrency: int.TryParse(section["Concurrency"], out var concurrency) ? Math.Clamp(concurrency, 1, 64) : 8);
    }
}
