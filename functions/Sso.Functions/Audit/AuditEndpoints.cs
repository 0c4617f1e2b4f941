using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>
/// <c>GET /api/v1/tenants/{tenantId}/audit?after=&amp;type=&amp;limit=</c>: a tenant's audit trail, newest
/// first; <c>GET /api/v1/audit</c> pages the changes that belong to no tenant (clients, global webhooks).
/// <c>…/audit/refusals?hours=</c>: the counted refusals of anonymous traffic per hour (<see cref="RefusalReport"/>).
/// </summary>
public static class AuditEndpoints
{
    public const int DefaultLimit = AuditTrail.DefaultLimit;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListTenantAudit", "/api/v1/tenants/{tenantId}/audit", ["GET"], AdminApi.Require(ListTenantAsync)),
        new("ListGlobalAudit", "/api/v1/audit", ["GET"], AdminApi.Require(ListGlobalAsync)),
        new("ListTenantRefusalCounts", "/api/v1/tenants/{tenantId}/audit/refusals", ["GET"], AdminApi.Require(ListTenantRefusalsAsync)),
        new("ListGlobalRefusalCounts", "/api/v1/audit/refusals", ["GET"], AdminApi.Require(ListGlobalRefusalsAsync)),
    ];

    private static async Task<IResult> ListTenantRefusalsAsync(HttpContext context)
    {
        var services = context.RequestServices;
        if (!(await services.GetRequiredService<AuditTrail>().FindTenantAsync(context.RouteString("tenantId"), context.RequestAborted))
            .TryGetValue(out var tenantId, out var problem))
            return ProblemResults.Write(problem);
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        if (!ParseRefusalQuery(context).TryGetValue(out var query, out problem)) return ProblemResults.Write(problem);
        return Write(await services.GetRequiredService<RefusalReport>().ReadAsync(tenantId, query, context.RequestAborted));
    }

    private static async Task<IResult> ListGlobalRefusalsAsync(HttpContext context)
    {
        if (!ParseRefusalQuery(context).TryGetValue(out var query, out var problem)) return ProblemResults.Write(problem);
        return Write(await context.RequestServices.GetRequiredService<RefusalReport>().ReadGlobalAsync(query, context.RequestAborted));
    }

    private static async Task<IResult> ListTenantAsync(HttpContext context)
    {
        var trail = context.RequestServices.GetRequiredService<AuditTrail>();
        if (!(await trail.FindTenantAsync(context.RouteString("tenantId"), context.RequestAborted)).TryGetValue(out var tenantId, out var problem))
            return ProblemResults.Write(problem);
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        if (!ParseQuery(context).TryGetValue(out var query, out problem)) return ProblemResults.Write(problem);
        return Write(await trail.ReadAsync(tenantId, query, context.RequestAborted));
    }

    private static async Task<IResult> ListGlobalAsync(HttpContext context)
    {
        if (!ParseQuery(context).TryGetValue(out var query, out var problem)) return ProblemResults.Write(problem);
        return Write(await context.RequestServices.GetRequiredService<AuditTrail>().ReadGlobalAsync(query, context.RequestAborted));
    }

    private static Result<AuditQuery, Problem> ParseQuery(HttpContext context)
    {
        var query = context.Request.Query;
        return AuditTrail.ParseQuery(query["type"].ToString(), query["after"].ToString(), query["limit"].ToString());
    }

    private static Result<RefusalQuery, Problem> ParseRefusalQuery(HttpContext context) =>
        RefusalReport.ParseQuery(context.Request.Query["hours"].ToString());

    private static IResult Write(RefusalCounts counts) => DirectoryEndpoints.Json(new JsonObject
    {
        ["data"] = new JsonArray(counts.Rows.Select(r => (JsonNode)r).ToArray()),
        ["total"] = counts.Total,
    });

    private static IResult Write(AuditPage page) => DirectoryEndpoints.Json(new JsonObject
    {
        ["data"] = new JsonArray(page.Rows.Select(r => (JsonNode)r).ToArray()),
        ["nextCursor"] = page.NextCursor,
    });
}
