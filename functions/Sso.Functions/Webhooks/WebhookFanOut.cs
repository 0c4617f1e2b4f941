using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Webhooks;

/// <summary>Turns one event into one delivery work item per webhook that wants it.</summary>
public sealed class WebhookFanOut(WebhookStore store, IWorkQueue queue)
{
    /// <param name="payload">The event as the events feed shows it (JSON), sent unchanged as the POST body.</param>
    /// <returns>How many deliveries were queued.</returns>
    public async Task<int> EnqueueAsync(string eventId, string eventType, string? tenantId, string payload,
        CancellationToken cancellationToken)
    {
        var webhooks = await store.ListAsync(cancellationToken);
        var messages = webhooks
            .Where(w => w.Wants(eventType, tenantId))
            .Select(w => WebhookDeliveryWorker.Envelope(new WebhookDeliveryMessage(w.Id.Value, eventId, eventType, tenantId, payload, 1)))
            .ToList();
        if (messages.Count > 0) await queue.SendAsync(WebhookDeliveryWorker.QueueName, messages, cancellationToken);
        return messages.Count;
    }
}
