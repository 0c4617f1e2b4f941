using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Webhooks;

/// <summary>Turns one event into one delivery work item per webhook that wants it.</summary>
public sealed class WebhookFanOut(WebhookStore store, IWorkQueue queue)
{
    /// <param name="payload">The event as the events feed shows it (JSON), sent unchanged as the POST body.</param>
    /// <returns>How many deliveries were queued.</returns>
    public async Task<int> EnqueueAsync(string eventId, string eventType, string? tenantId, string payload,
        CancellationToken cancellationToken) =>
        await EnqueueAsync(await ListWebhooksAsync(cancellationToken), eventId, eventType, tenantId, payload, cancellationToken);

    /// <summary>The webhooks, read once for several events (a packed events message).</summary>
    public Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    /// <param name="webhooks">What <see cref="ListWebhooksAsync"/> read for the message this event came in.</param>
    public async Task<int> EnqueueAsync(IReadOnlyList<Webhook> webhooks, string eventId, string eventType, string? tenantId, string payload,
        CancellationToken cancellationToken)
    {
        var messages = webhooks
            .Where(w => w.Wants(eventType, tenantId))
            .Select(w => WebhookDeliveryWorker.Envelope(new WebhookDeliveryMessage(w.Id.Value, eventId, eventType, tenantId, payload, 1)))
            .ToList();
        if (messages.Count > 0) await queue.SendAsync(WebhookDeliveryWorker.QueueName, messages, cancellationToken);
        return messages.Count;
    }
}
