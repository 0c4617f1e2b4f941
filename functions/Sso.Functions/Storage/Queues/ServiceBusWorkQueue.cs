using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;

namespace Sso.Functions.Storage.Queues;

/// <summary>
/// Sends work to Azure Service Bus queues with <c>Azure.Messaging.ServiceBus</c>: one
/// <see cref="ServiceBusClient"/> per process (registered as a singleton, managed identity),
/// one sender per queue, batches as large as the namespace accepts, scheduled messages for
/// later delivery. The Functions host's Service Bus trigger receives them.
/// </summary>
public sealed class ServiceBusWorkQueue(ServiceBusClient client, ServiceBusQueueOptions options, TimeProvider clock) : IWorkQueue
{
    public const string ContentType = "application/json";

    private readonly ConcurrentDictionary<string, ServiceBusSender> _senders = new();

    public Task SendAsync(string queueName, IReadOnlyList<WorkEnvelope> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0) return Task.CompletedTask;
        return WithinOperationTimeoutAsync(options, clock, $"send {messages.Count} message(s) to {queueName}",
            token => SendBatchesAsync(Sender(queueName), messages, token), cancellationToken);
    }

    public Task SendLaterAsync(string queueName, WorkEnvelope message, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero) return SendAsync(queueName, [message], cancellationToken);
        var at = clock.GetUtcNow() + delay;
        return WithinOperationTimeoutAsync(options, clock, $"schedule a message on {queueName}",
            token => Sender(queueName).ScheduleMessageAsync(ToMessage(message), at, token), cancellationToken);
    }

    /// <summary>
    /// The message the trigger hands to the worker: the body is the envelope JSON that
    /// <see cref="FunctionInvocation.ReadWorkItem"/> reads; MessageId is the envelope's
    /// deterministic id, so the queue's duplicate detection drops a repeat send.
    /// </summary>
    public static ServiceBusMessage ToMessage(WorkEnvelope envelope) => new(BinaryData.FromString(envelope.Write()))
    {
        MessageId = envelope.MessageId,
        Subject = envelope.Kind,
        ContentType = ContentType,
    };

    private ServiceBusSender Sender(string queueName) =>
        // CreateSender opens nothing; the AMQP link opens on first send and is reused after.
        _senders.GetOrAdd(queueName, client.CreateSender);

    private static async Task SendBatchesAsync(ServiceBusSender sender, IReadOnlyList<WorkEnvelope> messages, CancellationToken cancellationToken)
    {
        // The batch knows the namespace's size limit (256 KiB on Standard, more on Premium), so
        // each batch is filled until it refuses, sent, and the refused message starts the next.
        var batch = await sender.CreateMessageBatchAsync(cancellationToken);
        try
        {
            foreach (var envelope in messages)
            {
                var message = ToMessage(envelope);
                if (batch.TryAddMessage(message)) continue;
                if (batch.Count == 0) throw TooLarge(envelope, batch);
                await sender.SendMessagesAsync(batch, cancellationToken);
                batch.Dispose();
                batch = await sender.CreateMessageBatchAsync(cancellationToken);
                if (!batch.TryAddMessage(message)) throw TooLarge(envelope, batch);
            }
            if (batch.Count > 0) await sender.SendMessagesAsync(batch, cancellationToken);
        }
        finally
        {
            batch.Dispose();
        }
    }

    private static InvalidOperationException TooLarge(WorkEnvelope envelope, ServiceBusMessageBatch emptyBatch) =>
        new($"Work message {envelope.MessageId} ({envelope.Kind}, {System.Text.Encoding.UTF8.GetByteCount(envelope.Body)} bytes of body) " +
            $"does not fit in an empty Service Bus batch (at most {emptyBatch.MaxSizeInBytes} bytes); it was not sent.");

    /// <summary>
    /// Runs one Service Bus call with <see cref="ServiceBusQueueOptions.OperationTimeout"/> as its
    /// deadline, retries included. A deadline that passes is a <see cref="TimeoutException"/>,
    /// which the request pipeline answers as 503 in the route's format.
    /// </summary>
    internal static async Task WithinOperationTimeoutAsync(ServiceBusQueueOptions options, TimeProvider clock, string what,
        Func<CancellationToken, Task> operation, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(options.OperationTimeout, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await operation(linked.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ServiceBusException { Reason: ServiceBusFailureReason.ServiceTimeout }
            && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"Service Bus did not {what} within {options.OperationTimeout.TotalSeconds:0.#} s (Queues:ServiceBus:OperationTimeoutSeconds).", e);
        }
    }
}
