using System.Globalization;
using Azure.Messaging.ServiceBus;

namespace Sso.Functions.Storage.Queues;

/// <summary>
/// The dead-letter sub-queue of each Service Bus queue. Listing peeks (nothing is locked or
/// consumed); a dead letter's id is its sequence number. A replay receives the dead letters
/// under a peek-lock until it holds the one asked for, sends its work again under a new
/// message id, and completes the dead letter only after that send succeeded.
/// </summary>
public sealed class ServiceBusDeadLetterQueue(
    ServiceBusClient client, ServiceBusWorkQueue sender, ServiceBusQueueOptions options, TimeProvider clock) : IDeadLetterQueue
{
    public const int MaxListed = 100;

    // How many dead letters a replay looks through for the one asked for.
    public const int MaxScanned = 100;

    private static readonly TimeSpan ReceiveWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan AbandonWait = TimeSpan.FromSeconds(1);

    public async Task<IReadOnlyList<DeadLetter>> ListAsync(string queueName, int max, CancellationToken cancellationToken)
    {
        IReadOnlyList<ServiceBusReceivedMessage> peeked = [];
        // A receiver per call: a peek continues from the last sequence number its receiver saw.
        await using var receiver = client.CreateReceiver(queueName, DeadLetterReceiver);
        await ServiceBusWorkQueue.WithinOperationTimeoutAsync(options, clock, $"list the dead letters of {queueName}",
            async token => peeked = await receiver.PeekMessagesAsync(Math.Clamp(max, 1, MaxListed), fromSequenceNumber: null, token),
            cancellationToken);
        return peeked.Select(m => ToDeadLetter(queueName, m)).ToList();
    }

    public async Task<bool> ReplayAsync(string queueName, string deadLetterId, CancellationToken cancellationToken)
    {
        if (!long.TryParse(deadLetterId, NumberStyles.None, CultureInfo.InvariantCulture, out var sequenceNumber)) return false;
        var replayed = false;
        await using var receiver = client.CreateReceiver(queueName, DeadLetterReceiver);
        var held = new List<ServiceBusReceivedMessage>();
        try
        {
            await ServiceBusWorkQueue.WithinOperationTimeoutAsync(options, clock, $"replay dead letter {sequenceNumber} of {queueName}",
                async token => replayed = await ReplayLockedAsync(receiver, queueName, sequenceNumber, held, token), cancellationToken);
        }
        finally
        {
            // Whatever is still locked goes back: the others, and the one asked for when its
            // resend or its completion failed (it stays a dead letter, to be replayed again).
            await AbandonAsync(receiver, held);
        }
        return replayed;
    }

    private async Task<bool> ReplayLockedAsync(ServiceBusReceiver receiver, string queueName, long sequenceNumber,
        List<ServiceBusReceivedMessage> held, CancellationToken cancellationToken)
    {
        while (held.Count < MaxScanned)
        {
            var received = await receiver.ReceiveMessagesAsync(MaxScanned - held.Count, ReceiveWait, cancellationToken);
            if (received.Count == 0) return false;
            held.AddRange(received);
            if (received.FirstOrDefault(m => m.SequenceNumber == sequenceNumber) is not { } deadLetter) continue;

            // A body that is no work envelope cannot be worked on again; it stays for inspection.
            if (WorkEnvelope.Read(deadLetter.Body.ToString()) is not { } envelope) return false;
            // Order: the copy first, under a new id (duplicate detection would drop the old one),
            // then complete. A crash in between leaves a duplicate, which the idempotent handlers absorb.
            await sender.SendAsync(queueName, [envelope with { MessageId = DeadLetterReplay.NewMessageId(envelope.MessageId) }],
                cancellationToken);
            await receiver.CompleteMessageAsync(deadLetter, cancellationToken);
            held.Remove(deadLetter);
            return true;
        }
        return false;
    }

    private static async Task AbandonAsync(ServiceBusReceiver receiver, List<ServiceBusReceivedMessage> held)
    {
        if (held.Count == 0) return;
        // Bounded and best effort: a lock that is not released runs out by itself (the queue's lock
        // duration, 1 min) and the message is a visible dead letter again.
        using var wait = new CancellationTokenSource(AbandonWait);
        foreach (var message in held)
        {
            try
            {
                await receiver.AbandonMessageAsync(message, propertiesToModify: null, wait.Token);
            }
            catch (Exception e) when (e is ServiceBusException or OperationCanceledException or TimeoutException)
            {
                return;
            }
        }
    }

    private static ServiceBusReceiverOptions DeadLetterReceiver => new()
    {
        SubQueue = SubQueue.DeadLetter,
        ReceiveMode = ServiceBusReceiveMode.PeekLock,
        PrefetchCount = 0,
    };

    public static DeadLetter ToDeadLetter(string queueName, ServiceBusReceivedMessage message) =>
        new(message.SequenceNumber.ToString(CultureInfo.InvariantCulture),
            queueName,
            message.MessageId,
            WorkEnvelope.Read(message.Body.ToString())?.Kind ?? message.Subject,
            message.DeadLetterReason is { Length: > 0 } reason ? reason : "dead-lettered",
            message.DeliveryCount,
            message.EnqueuedTime == default ? null : message.EnqueuedTime);
}
