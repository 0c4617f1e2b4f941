using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Webhooks;

/// <summary>
/// Sends held deliveries again: the parked ones when their webhook is enabled again, the
/// dead-lettered ones on request. Each goes back to the delivery queue as a first attempt (a full
/// retry budget) under a new message id, since Service Bus would drop the original id as a duplicate.
/// </summary>
public sealed class WebhookRedelivery(WebhookStore store, IWorkQueue queue)
{
    /// <returns>How many deliveries were queued.</returns>
    public async Task<int> RequeueAsync(WebhookId id, Func<HeldDelivery, bool> which, CancellationToken cancellationToken)
    {
        var queued = 0;
        foreach (var held in await store.ListHeldAsync(id, cancellationToken))
        {
            if (!which(held.Delivery)) continue;
            // Order: queue first, then release the row; a crash between leaves a duplicate that the
            // done marker absorbs, never a lost delivery.
            var envelope = WebhookDeliveryWorker.Envelope(held.Message);
            await queue.SendAsync(WebhookDeliveryWorker.QueueName,
                [envelope with { MessageId = DeadLetterReplay.NewMessageId(envelope.MessageId) }], cancellationToken);
            await store.ReleaseAsync(id, held, cancellationToken);
            queued++;
        }
        return queued;
    }

    public Task<int> RequeueParkedAsync(WebhookId id, CancellationToken cancellationToken) =>
        RequeueAsync(id, held => held.State == HeldDelivery.Parked, cancellationToken);

    public Task<int> RequeueAllAsync(WebhookId id, CancellationToken cancellationToken) =>
        RequeueAsync(id, _ => true, cancellationToken);
}
