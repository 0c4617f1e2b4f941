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
    public const int DefaultLimit = AuditTrail.DefaultLimit;

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

    private static IResult Write(AuditPage page) => DirectoryEndpoints.Json(new JsonObject
    {
        ["data"] = new JsonArray(page.Rows.Select(r => (JsonNode)r).ToArray()),
        ["nextCursor"] = page.NextCursor,
    });
}
