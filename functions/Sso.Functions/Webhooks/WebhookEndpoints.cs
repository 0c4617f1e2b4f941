using System.Security.Cryptography;
using System.Text.Json;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tenants;
using Sso.Protocols.OAuth;

namespace Sso.Functions.Webhooks;

public static class WebhookEndpoints
{
    public const string HttpClientName = "webhooks";
    private const int MaxEventTypes = 50;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateWebhook", "/api/v1/webhooks", ["POST"], AdminApi.Require(CreateAsync)),
        new("ListWebhooks", "/api/v1/webhooks", ["GET"], AdminApi.Require(ListAsync)),
        new("GetWebhook", "/api/v1/webhooks/{webhookId}", ["GET"], AdminApi.Require(GetAsync)),
        new("UpdateWebhook", "/api/v1/webhooks/{webhookId}", ["PATCH"], AdminApi.Require(UpdateAsync)),
        new("DeleteWebhook", "/api/v1/webhooks/{webhookId}", ["DELETE"], AdminApi.Require(DeleteAsync)),
        new("ListWebhookDeliveries", "/api/v1/webhooks/{webhookId}/deliveries", ["GET"], AdminApi.Require(ListDeliveriesAsync)),
        new("SendTestWebhook", "/api/v1/webhooks/{webhookId}/test", ["POST"], AdminApi.Require(SendTestAsync)),
        new("ListUndeliveredWebhookDeliveries", "/api/v1/webhooks/{webhookId}/undelivered", ["GET"], AdminApi.Require(ListUndeliveredAsync)),
        new("RedeliverWebhookDeliveries", "/api/v1/webhooks/{webhookId}/undelivered/redeliver", ["POST"], AdminApi.Require(RedeliverAsync)),
    ];

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        var request = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.CreateWebhookRequest);
        if (!request.IsSuccess) return ProblemResults.Write(request.Error);
        var body = request.Value;
        var services = context.RequestServices;

        if (ValidateUrl(body.Url, services.GetRequiredService<SsoOptions>()) is { } badUrl) return ProblemResults.Write(badUrl);
        if (ValidateEventTypes(body.EventTypes) is { } badTypes) return ProblemResults.Write(badTypes);
        if (body.Description is { Length: > 500 }) return ProblemResults.Write(Problem.Validation("'description' must be at most 500 characters."));
        if (body.TenantId is { } tenantId)
        {
            if (!TenantId.TryParse(tenantId, out var parsed)
                || await services.GetRequiredService<TenantStore>().FindAsync(parsed, context.RequestAborted) is null)
                return ProblemResults.Write(Problem.Validation($"'tenantId' names no tenant ('{tenantId}')."));
            context.Items[RequestPipeline.TenantItem] = tenantId;
        }

        var clock = services.GetRequiredService<TimeProvider>();
        var webhook = new Webhook(WebhookId.New(), body.TenantId, body.Url!, body.EventTypes ?? [], body.Description,
            Enabled: true, ConsecutiveFailures: 0, DisabledReason: null, clock.GetUtcNow());
        var secret = "whsec_" + Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        // Order: the secret first, so a webhook row never exists without its signing secret.
        await services.GetRequiredService<ISecretStore>().SetAsync(webhook.Id.SecretName, secret, context.RequestAborted);
        await services.GetRequiredService<WebhookStore>().CreateAsync(webhook, context.RequestAborted);
        return JsonResults.Created($"/api/v1/webhooks/{webhook.Id}",
            new CreatedWebhook(webhook.Id.Value, webhook.TenantId, webhook.Url, webhook.EventTypes, webhook.Description,
                webhook.Enabled, secret, webhook.CreatedAt),
            SsoJsonContext.Default.CreatedWebhook);
    }

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var tenantFilter = context.Request.Query["tenantId"].ToString();
        var webhooks = await context.RequestServices.GetRequiredService<WebhookStore>().ListAsync(context.RequestAborted);
        var selected = webhooks
            .Where(w => tenantFilter.Length == 0 || w.TenantId == tenantFilter || w.TenantId is null)
            .OrderBy(w => w.CreatedAt)
            .Select(w => w.ToView())
            .ToArray();
        return JsonResults.Ok(new WebhookList(selected), SsoJsonContext.Default.WebhookList);
    }

    private static async Task<IResult> GetAsync(HttpContext context) =>
        await FindAsync(context) is { } webhook
            ? JsonResults.Ok(webhook.ToView(), SsoJsonContext.Default.WebhookView)
            : NotFound(context);

    private static async Task<IResult> UpdateAsync(HttpContext context)
    {
        var request = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.UpdateWebhookRequest);
        if (!request.IsSuccess) return ProblemResults.Write(request.Error);
        var body = request.Value;
        if (body.Url is not null && ValidateUrl(body.Url, context.RequestServices.GetRequiredService<SsoOptions>()) is { } badUrl)
            return ProblemResults.Write(badUrl);
        if (body.EventTypes is not null && ValidateEventTypes(body.EventTypes) is { } badTypes) return ProblemResults.Write(badTypes);
        if (body.Description is { Length: > 500 }) return ProblemResults.Write(Problem.Validation("'description' must be at most 500 characters."));

        var store = context.RequestServices.GetRequiredService<WebhookStore>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await FindAsync(context) is not { } before) return NotFound(context);
            var enable = body.Enabled ?? before.Enabled;
            var after = before with
            {
                Url = body.Url ?? before.Url,
                EventTypes = body.EventTypes ?? before.EventTypes,
                Description = body.Description ?? before.Description,
                Enabled = enable,
                // Re-enabling starts the failure count afresh.
                ConsecutiveFailures = enable && !before.Enabled ? 0 : before.ConsecutiveFailures,
                FailingSince = enable && !before.Enabled ? null : before.FailingSince,
                DisabledReason = enable ? null : before.DisabledReason ?? "disabled by an administrator",
            };
            switch (await store.ReplaceAsync(before, after, context.RequestAborted))
            {
                case SaveOutcome.Saved:
                    // What was parked while the webhook was disabled is sent now.
                    if (enable && !before.Enabled)
                        await context.RequestServices.GetRequiredService<WebhookRedelivery>().RequeueParkedAsync(after.Id, context.RequestAborted);
                    return JsonResults.Ok(after.ToView(), SsoJsonContext.Default.WebhookView);
                case SaveOutcome.NotFound: return NotFound(context);
            }
        }
        return ProblemResults.Write(Problem.Conflict("The webhook kept changing; retry the request."));
    }

    private static async Task<IResult> DeleteAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } webhook) return NotFound(context);
        var store = context.RequestServices.GetRequiredService<WebhookStore>();
        if (await store.DeleteAsync(webhook.Id, context.RequestAborted) == SaveOutcome.NotFound) return NotFound(context);
        // Order: the row first (no more deliveries are started), then its secret.
        await context.RequestServices.GetRequiredService<ISecretStore>().DeleteAsync(webhook.Id.SecretName, context.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> ListDeliveriesAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } webhook) return NotFound(context);
        var limit = int.TryParse(context.Request.Query["limit"], out var l) ? Math.Clamp(l, 1, 500) : 100;
        var attempts = await context.RequestServices.GetRequiredService<WebhookStore>()
            .ListAttemptsAsync(webhook.Id, limit, context.RequestAborted);
        return JsonResults.Ok(new WebhookDeliveryList(attempts.ToArray()), SsoJsonContext.Default.WebhookDeliveryList);
    }

    /// <summary>Deliveries kept instead of sent: parked while the webhook is disabled, dead-lettered once their attempts were spent.</summary>
    private static async Task<IResult> ListUndeliveredAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } webhook) return NotFound(context);
        var held = await context.RequestServices.GetRequiredService<WebhookStore>().ListHeldAsync(webhook.Id, context.RequestAborted);
        return JsonResults.Ok(new HeldDeliveryList(held.Select(h => h.Delivery).ToArray()), SsoJsonContext.Default.HeldDeliveryList);
    }

    /// <summary>Sends every kept delivery again, each with a fresh set of attempts.</summary>
    private static async Task<IResult> RedeliverAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } webhook) return NotFound(context);
        if (!webhook.Enabled)
            return ProblemResults.Write(Problem.Conflict("The webhook is disabled; enable it (PATCH {\"enabled\":true}) to send what it kept."));
        var queued = await context.RequestServices.GetRequiredService<WebhookRedelivery>().RequeueAllAsync(webhook.Id, context.RequestAborted);
        return Results.Json(new HeldDeliveriesQueued(queued), SsoJsonContext.Default.HeldDeliveriesQueued, statusCode: 202);
    }

    /// <summary>Queues a <c>webhook.test</c> event for this endpoint only, so an integrator can check signature handling.</summary>
    private static async Task<IResult> SendTestAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } webhook) return NotFound(context);
        var clock = context.RequestServices.GetRequiredService<TimeProvider>();
        var eventId = Ids.New("evt_");
        var payload = JsonSerializer.Serialize(new WebhookTestEvent(eventId, "webhook.test", webhook.TenantId, clock.GetUtcNow()),
            SsoJsonContext.Default.WebhookTestEvent);
        var message = new WebhookDeliveryMessage(webhook.Id.Value, eventId, "webhook.test", webhook.TenantId, payload, 1);
        await context.RequestServices.GetRequiredService<Storage.Queues.IWorkQueue>()
            .SendAsync(WebhookDeliveryWorker.QueueName, [WebhookDeliveryWorker.Envelope(message)], context.RequestAborted);
        return Results.Json(new WebhookTestQueued(eventId), SsoJsonContext.Default.WebhookTestQueued, statusCode: 202);
    }

    private static async Task<Webhook?> FindAsync(HttpContext context)
    {
        if (!WebhookId.TryParse(context.RouteString("webhookId"), out var id)) return null;
        var webhook = await context.RequestServices.GetRequiredService<WebhookStore>().FindAsync(id, context.RequestAborted);
        if (webhook?.TenantId is { } tenantId) context.Items[RequestPipeline.TenantItem] = tenantId;
        return webhook;
    }

    private static IResult NotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("webhook", context.RouteString("webhookId")));

    private static Problem? ValidateUrl(string? url, SsoOptions options)
    {
        // Same rule as redirect URIs: absolute https (http on loopback only in Development).
        var checkedUrl = RedirectUriPolicy.Validate(url, options.AllowLoopbackHttp);
        return checkedUrl.IsSuccess ? null : Problem.Validation($"url: {checkedUrl.Error}.");
    }

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

public sealed record WebhookTestEvent(string Id, string Type, string? TenantId, DateTimeOffset OccurredAt);

public sealed record WebhookTestQueued(string EventId);
