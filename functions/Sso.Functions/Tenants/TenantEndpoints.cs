using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

public static class TenantEndpoints
{
    public const int MaxDomains = TenantAdministration.MaxDomains;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateTenant", "/api/v1/tenants", ["POST"], AdminApi.Require(CreateAsync)),
        new("ListTenants", "/api/v1/tenants", ["GET"], AdminApi.Require(ListAsync)),
        new("GetTenant", "/api/v1/tenants/{tenantId}", ["GET"], AdminApi.Require(GetAsync)),
        new("UpdateTenant", "/api/v1/tenants/{tenantId}", ["PATCH"], AdminApi.Require(UpdateAsync)),
        new("DeleteTenant", "/api/v1/tenants/{tenantId}", ["DELETE"], AdminApi.Require(DeleteAsync)),
    ];

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        var request = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.CreateTenantRequest);
        if (!request.IsSuccess) return ProblemResults.Write(request.Error);
        var created = await context.RequestServices.GetRequiredService<TenantAdministration>().CreateAsync(request.Value, context.RequestAborted);
        if (!created.IsSuccess) return ProblemResults.Write(created.Error);
        var tenant = created.Value;
        context.Items[RequestPipeline.TenantItem] = tenant.Id.Value;
        return JsonResults.Created($"/api/v1/tenants/{tenant.Id}", tenant.ToView(), SsoJsonContext.Default.TenantView);
    }

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var limit = int.TryParse(context.Request.Query["limit"], out var l) ? Math.Clamp(l, 1, 200) : 50;
        var cursor = context.Request.Query["cursor"].ToString() is { Length: > 0 } c ? c : null;
        var store = context.RequestServices.GetRequiredService<TenantStore>();
        var (tenants, next) = await store.ListAsync(cursor, limit, context.RequestAborted);
        return JsonResults.Ok(new TenantList(tenants.Select(t => t.ToView()).ToArray(), next), SsoJsonContext.Default.TenantList);
    }

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } tenant) return NotFound(context);
        return JsonResults.Ok(tenant.ToView(), SsoJsonContext.Default.TenantView);
    }

    private static async Task<IResult> UpdateAsync(HttpContext context)
    {
        if (context.Request.ContentType is { } contentType && !JsonResults.IsJson(contentType))
            return ProblemResults.Write(Problem.UnsupportedMediaType());
        var body = await context.Request.ReadBodyBytesAsync(64 * 1024, context.RequestAborted);
        if (body is null) return ProblemResults.Write(Problem.PayloadTooLarge(64 * 1024));
        JsonObject patch;
        try
        {
            if (JsonNode.Parse(body) is not JsonObject parsed)
                return ProblemResults.Write(Problem.InvalidJson("A merge patch of a tenant must be a JSON object."));
            patch = parsed;
        }
        catch (JsonException e)
        {
            return ProblemResults.Write(JsonResults.DescribeJsonException(e));
        }
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var tenantId))
            return TenantAdministration.UnknownMember(patch) is { } unknown ? ProblemResults.Write(unknown) : NotFound(context);
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        var updated = await context.RequestServices.GetRequiredService<TenantAdministration>().UpdateAsync(tenantId, patch, context.RequestAborted);
        return updated.IsSuccess
            ? JsonResults.Ok(updated.Value.ToView(), SsoJsonContext.Default.TenantView)
            : ProblemResults.Write(updated.Error);
    }

    private static async Task<IResult> DeleteAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var tenantId)) return NotFound(context);
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        var deleted = await context.RequestServices.GetRequiredService<TenantAdministration>().DeleteAsync(tenantId, context.RequestAborted);
        return deleted.IsSuccess ? Results.NoContent() : ProblemResults.Write(deleted.Error);
    }

    private static async Task<Tenant?> FindAsync(HttpContext context)
    {
        var raw = context.RouteString("tenantId");
        if (!TenantId.TryParse(raw, out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static IResult NotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));
}
