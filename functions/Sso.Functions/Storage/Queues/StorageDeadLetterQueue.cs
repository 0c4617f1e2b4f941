using Azure.Storage.Queues.Models;

namespace Sso.Functions.Storage.Queues;

/// <summary>Dead letters in the "{queue}-poison" Storage queues that the local queue dispatcher fills.</summary>
public sealed class StorageDeadLetterQueue(StorageWorkQueue queues) : IDeadLetterQueue
{
    public const string Suffix = "-poison";

    /// <summary>Deliveries before a message moves to "{queue}-poison" (Service Bus' maxDeliveryCount in infra/).</summary>
    public const int MaxDeliveryCount = 5;

    public async Task<IReadOnlyList<DeadLetter>> ListAsync(string queueName, int max, CancellationToken cancellationToken)
    {
        var poison = await queues.GetQueueAsync(queueName + Suffix, cancellationToken);
        PeekedMessage[] peeked = await poison.PeekMessagesAsync(Math.Clamp(max, 1, 32), cancellationToken);
        return peeked.Select(m =>
        {
            var envelope = WorkEnvelope.Read(m.Body.ToString());
            return new DeadLetter(m.MessageId, queueName, envelope?.MessageId, envelope?.Kind,
                envelope is null ? "unreadable message" : $"failed {MaxDeliveryCount} deliveries",
                (int)m.DequeueCount, m.InsertedOn);
        }).ToList();
    }

    public async Task<bool> ReplayAsync(string queueName, string deadLetterId, CancellationToken cancellationToken)
    {
        var poison = await queues.GetQueueAsync(queueName + Suffix, cancellationToken);
        QueueMessage[] received = await poison.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30), cancellationToken);
        var found = false;
        foreach (var message in received)
        {
            if (message.MessageId != deadLetterId)
            {
                // Not the one asked for: make it visible again at once.
                await poison.UpdateMessageAsync(message.MessageId, message.PopReceipt, message.Body, TimeSpan.Zero, cancellationToken);
                continue;
            }
            var envelope = WorkEnvelope.Read(message.Body.ToString());
            if (envelope is null) return false;
            // Order: send the work again first, then delete the dead letter; a crash in between
            // leaves a duplicate, which the idempotent handlers absorb.
            await queues.SendAsync(queueName, [envelope with { MessageId = DeadLetterReplay.NewMessageId(envelope.MessageId) }],
                cancellationToken);
            await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            found = true;
        }
        return found;
    }
}
