using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Webhooks;

public static class WebhookEndpoints
{
    public const string HttpClientName = "webhooks";

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
        // A webhook of a tenant is named with its tenant in the log and the audit, also when storing it fails; a refusal names none.
        if (request.Value.TenantId is { } tenantId && TenantId.TryParse(tenantId, out _)) context.Items[RequestPipeline.TenantItem] = tenantId;
        var created = await Setup(context).CreateAsync(request.Value, context.RequestAborted);
        if (!created.IsSuccess)
        {
            context.Items.Remove(RequestPipeline.TenantItem);
            return ProblemResults.Write(created.Error);
        }
        var (webhook, secret) = created.Value;
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
        var setup = Setup(context);
        // A bad change is refused before the webhook is looked up: 400 rather than 404 for an unknown one.
        if (setup.Check(request.Value) is { } invalid) return ProblemResults.Write(invalid);
        if (await FindAsync(context) is not { } webhook) return NotFound(context);
        var updated = await setup.UpdateAsync(webhook, request.Value, context.RequestAborted);
        return updated.IsSuccess ? JsonResults.Ok(updated.Value.ToView(), SsoJsonContext.Default.WebhookView) : ProblemResults.Write(updated.Error);
    }

    private static async Task<IResult> DeleteAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } webhook) return NotFound(context);
        var deleted = await Setup(context).DeleteAsync(webhook, context.RequestAborted);
        return deleted.IsSuccess ? Results.NoContent() : ProblemResults.Write(deleted.Error);
    }

    private static WebhookSetup Setup(HttpContext context) => context.RequestServices.GetRequiredService<WebhookSetup>();

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
        var queued = await Setup(context).RedeliverAsync(webhook, context.RequestAborted);
        return queued.IsSuccess
            ? Results.Json(new HeldDeliveriesQueued(queued.Value), SsoJsonContext.Default.HeldDeliveriesQueued, statusCode: 202)
            : ProblemResults.Write(queued.Error);
    }

    /// <summary>Queues a <c>webhook.test</c> event for this endpoint only, so an integrator can check signature handling.</summary>
    private static async Task<IResult> SendTestAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } webhook) return NotFound(context);
        var eventId = await Setup(context).SendTestAsync(webhook, context.RequestAborted);
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
}

public sealed record WebhookTestEvent(string Id, string Type, string? TenantId, DateTimeOffset OccurredAt);

public sealed record WebhookTestQueued(string EventId);
