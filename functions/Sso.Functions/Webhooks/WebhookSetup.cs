using System.Security.Cryptography;
using System.Text.Json;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tenants;
using Sso.Protocols.OAuth;

namespace Sso.Functions.Webhooks;

/// <summary>
/// The webhook subscription operations: typed inputs, a <see cref="Problem"/> for what the caller
/// got wrong, no HTTP. A webhook's signing secret lives in the secret store under
/// <see cref="WebhookId.SecretName"/> and is shown once, by <see cref="CreateAsync"/>.
/// </summary>
public sealed class WebhookSetup(WebhookStore store, TenantStore tenants, ISecretStore secrets, WebhookRedelivery redelivery,
    IWorkQueue queue, SsoOptions options, TimeProvider clock)
{
    public const int MaxEventTypes = 50;

    /// <summary>A new enabled webhook with a fresh signing secret; <c>tenantId</c>, when given, must name a tenant.</summary>
    public async Task<Result<IssuedWebhook, Problem>> CreateAsync(CreateWebhookRequest request, CancellationToken cancellationToken)
    {
        if (ValidateUrl(request.Url) is { } badUrl) return badUrl;
        if (ValidateEventTypes(request.EventTypes) is { } badTypes) return badTypes;
        if (ValidateDescription(request.Description) is { } badDescription) return badDescription;
        if (request.TenantId is { } tenantId
            && (!TenantId.TryParse(tenantId, out var parsed) || await tenants.FindAsync(parsed, cancellationToken) is null))
            return Problem.Validation($"'tenantId' names no tenant ('{tenantId}').");

        var webhook = new Webhook(WebhookId.New(), request.TenantId, request.Url!, request.EventTypes ?? [], request.Description,
            Enabled: true, ConsecutiveFailures: 0, DisabledReason: null, clock.GetUtcNow());
        var secret = "whsec_" + Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        // Order: the secret first, so a webhook row never exists without its signing secret.
        await secrets.SetAsync(webhook.Id.SecretName, secret, cancellationToken);
        await store.CreateAsync(webhook, cancellationToken);
        return new IssuedWebhook(webhook, secret);
    }

    /// <summary>What is wrong with a change whatever webhook it is applied to; null when nothing is.</summary>
    public Problem? Check(UpdateWebhookRequest change) =>
        (change.Url is null ? null : ValidateUrl(change.Url))
        ?? ValidateEventTypes(change.EventTypes)
        ?? ValidateDescription(change.Description);

    /// <summary>
    /// Applies a change to <paramref name="current"/> under its ETag, reading it again when another
    /// writer won. Disabling keeps the failure count; enabling a disabled webhook starts it afresh
    /// and sends what was parked while it was disabled.
    /// </summary>
    public async Task<Result<Webhook, Problem>> UpdateAsync(Webhook current, UpdateWebhookRequest change, CancellationToken cancellationToken)
    {
        if (Check(change) is { } invalid) return invalid;
        Webhook? before = current;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (attempt > 0) before = await store.FindAsync(current.Id, cancellationToken);
            if (before is null) return NotFound(current.Id);
            var enable = change.Enabled ?? before.Enabled;
            var reenabled = enable && !before.Enabled;
            var after = before with
            {
                Url = change.Url ?? before.Url,
                EventTypes = change.EventTypes ?? before.EventTypes,
                Description = change.Description ?? before.Description,
                Enabled = enable,
                ConsecutiveFailures = reenabled ? 0 : before.ConsecutiveFailures,
                FailingSince = reenabled ? null : before.FailingSince,
                DisabledReason = enable ? null : before.DisabledReason ?? "disabled by an administrator",
            };
            switch (await store.ReplaceAsync(before, after, cancellationToken))
            {
                case SaveOutcome.Saved:
                    if (reenabled) await redelivery.RequeueParkedAsync(after.Id, cancellationToken);
                    return after;
                case SaveOutcome.NotFound: return NotFound(current.Id);
            }
        }
        return Problem.Conflict("The webhook kept changing; retry the request.");
    }

    /// <summary>Deletes the webhook, then its signing secret.</summary>
    public async Task<Result<Webhook, Problem>> DeleteAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        if (await store.DeleteAsync(webhook.Id, cancellationToken) == SaveOutcome.NotFound) return NotFound(webhook.Id);
        // Order: the row first (no more deliveries are started), then its secret.
        await secrets.DeleteAsync(webhook.Id.SecretName, cancellationToken);
        return webhook;
    }

    /// <summary>Sends every kept delivery again, each with a fresh set of attempts; a disabled webhook keeps them.</summary>
    /// <returns>How many deliveries were queued.</returns>
    public async Task<Result<int, Problem>> RedeliverAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        if (!webhook.Enabled)
            return Problem.Conflict("The webhook is disabled; enable it (PATCH {\"enabled\":true}) to send what it kept.");
        return await redelivery.RequeueAllAsync(webhook.Id, cancellationToken);
    }

    /// <summary>Queues a <c>webhook.test</c> event for this webhook only, so an integrator can check signature handling.</summary>
    /// <returns>The test event's id.</returns>
    public async Task<string> SendTestAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        var eventId = Ids.New("evt_");
        var payload = JsonSerializer.Serialize(new WebhookTestEvent(eventId, "webhook.test", webhook.TenantId, clock.GetUtcNow()),
            SsoJsonContext.Default.WebhookTestEvent);
        var message = new WebhookDeliveryMessage(webhook.Id.Value, eventId, "webhook.test", webhook.TenantId, payload, 1);
        await queue.SendAsync(WebhookDeliveryWorker.QueueName, [WebhookDeliveryWorker.Envelope(message)], cancellationToken);
        return eventId;
    }

    private static Problem NotFound(WebhookId id) => Problem.NotFound("webhook", id.Value);

    private Problem? ValidateUrl(string? url)
    {
        // Same rule as redirect URIs: absolute https (http on loopback only in Development).
        var checkedUrl = RedirectUriPolicy.Validate(url, options.AllowLoopbackHttp);
        return checkedUrl.IsSuccess ? null : Problem.Validation($"url: {checkedUrl.Error}.");
    }

    private static Problem? ValidateDescription(string? description) =>
        description is { Length: > 500 } ? Problem.Validation("'description' must be at most 500 characters.") : null;

    private static Problem? ValidateEventTypes(string[]? eventTypes)
    {
        if (eventTypes is null) return null;
        if (eventTypes.Length > MaxEventTypes) return Problem.Validation($"'eventTypes' may list at most {MaxEventTypes} types.");
        foreach (var type in eventTypes)
            if (string.IsNullOrWhiteSpace(type) || type.Length > 100 || !type.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '*')
                || (type.Contains('*') && !type.EndsWith(".*", StringComparison.Ordinal)))
                return Problem.Validation($"'{type}' is not an event type (e.g. 'dsync.user.deprovisioned' or 'dsync.*').");
        return null;
    }
}

/// <summary>A new webhook and its signing secret; <see cref="Secret"/> is shown once and never again.</summary>
public sealed record IssuedWebhook(Webhook Webhook, string Secret);
