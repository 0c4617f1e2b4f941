using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Audit;

/// <summary>
/// <c>GET /api/v1/tenants/{tenantId}/audit?after=&amp;type=&amp;limit=</c>: a tenant's audit trail, newest
/// first; <c>GET /api/v1/audit</c> pages the changes that belong to no tenant (clients, global webhooks).
/// </summary>
public static class AuditEndpoints
{
    public const int DefaultLimit = 50;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListTenantAudit", "/api/v1/tenants/{tenantId}/audit", ["GET"], AdminApi.Require(ListTenantAsync)),
        new("ListGlobalAudit", "/api/v1/audit", ["GET"], AdminApi.Require(ListGlobalAsync)),
        new("ListTenantRefusalCounts", "/api/v1/tenants/{tenantId}/audit/refusals", ["GET"], AdminApi.Require(ListTenantRefusalsAsync)),
        new("ListGlobalRefusalCounts", "/api/v1/audit/refusals", ["GET"], AdminApi.Require(ListGlobalRefusalsAsync)),
    ];

    public const int DefaultRefusalHours = 24;
    public const int MaxRefusalHours = 24 * 31;

    private static async Task<IResult> ListTenantRefusalsAsync(HttpContext context)
    {
        var raw = context.RouteString("tenantId");
        if (!TenantId.TryParse(raw, out var tenantId)
            || await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(tenantId, context.RequestAborted) is null)
            return ProblemResults.Write(Problem.NotFound("tenant", raw));
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        return await ListRefusalsAsync(context, tenantId.Value);
    }

    private static Task<IResult> ListGlobalRefusalsAsync(HttpContext context) => ListRefusalsAsync(context, AuditRecord.GlobalPartition);

    /// <summary>The counted refusals of anonymous traffic (<see cref="RefusalCounter"/>) of the last <c>hours</c>, per hour.</summary>
    private static async Task<IResult> ListRefusalsAsync(HttpContext context, string partition)
    {
        var hours = DefaultRefusalHours;
        if (context.Request.Query["hours"].ToString() is { Length: > 0 } rawHours
            && (!int.TryParse(rawHours, out hours) || hours < 1 || hours > MaxRefusalHours))
            return ProblemResults.Write(Problem.Validation($"'hours' must be an integer from 1 to {MaxRefusalHours}."));
        var services = context.RequestServices;
        // This instance's counts first, so a read right after a flood sees it; other instances' within a flush interval.
        await services.GetRequiredService<RefusalCounter>().FlushAsync(context.RequestAborted);
        var since = services.GetRequiredService<TimeProvider>().GetUtcNow().AddHours(-(hours - 1));
        var rows = await services.GetRequiredService<RefusalCountStore>().ReadAsync(partition, since, context.RequestAborted);
        return DirectoryEndpoints.Json(new JsonObject
        {
            ["data"] = new JsonArray(rows.Select(r => (JsonNode)r).ToArray()),
            ["total"] = rows.Sum(r => r["count"]!.GetValue<long>()),
        });
    }

    private static async Task<IResult> ListTenantAsync(HttpContext context)
    {
        var raw = context.RouteString("tenantId");
        if (!TenantId.TryParse(raw, out var tenantId)
            || await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(tenantId, context.RequestAborted) is null)
            return ProblemResults.Write(Problem.NotFound("tenant", raw));
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        return await ListAsync(context, tenantId.Value);
    }

    private static Task<IResult> ListGlobalAsync(HttpContext context) => ListAsync(context, AuditRecord.GlobalPartition);

    private static async Task<IResult> ListAsync(HttpContext context, string partition)
    {
        var query = context.Request.Query;
        var limit = DefaultLimit;
        if (query["limit"].ToString() is { Length: > 0 } rawLimit
            && (!int.TryParse(rawLimit, out limit) || limit < 1 || limit > AuditStore.MaxPageSize))
            return ProblemResults.Write(Problem.Validation($"'limit' must be an integer from 1 to {AuditStore.MaxPageSize}."));
        var type = query["type"].ToString() is { Length: > 0 } rawType ? rawType : null;
        if (type is not null && !AuditTypes.All.Contains(type))
            return ProblemResults.Write(Problem.Validation($"'type' must be one of {string.Join(", ", AuditTypes.All)}."));
        var after = query["after"].ToString() is { Length: > 0 } cursor ? cursor : null;
        if (after is not null && !AuditRecord.IsId(after))
            return ProblemResults.Write(Problem.Validation("'after' must be a cursor (nextCursor) returned by this endpoint."));

        var (rows, next) = await context.RequestServices.GetRequiredService<AuditStore>()
            .ReadAsync(partition, type, after, limit, context.RequestAborted);
        return DirectoryEndpoints.Json(new JsonObject
        {
            ["data"] = new JsonArray(rows.Select(r => (JsonNode)r).ToArray()),
            ["nextCursor"] = next,
        });
    }
}
