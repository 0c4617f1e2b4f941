using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

/// <summary>A tenant's email domains and their DNS verification.</summary>
public static class DomainEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListTenantDomains", "/api/v1/tenants/{tenantId}/domains", ["GET"], AdminApi.Require(ListAsync)),
        new("VerifyTenantDomain", "/api/v1/tenants/{tenantId}/domains/{domain}/verify", ["POST"], AdminApi.Require(VerifyAsync)),
    ];

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var claims = await context.RequestServices.GetRequiredService<TenantStore>().ListClaimsAsync(tenant, context.RequestAborted);
        return JsonResults.Ok(new DomainList(claims.Select(c => c.ToView()).ToArray()), SsoJsonContext.Default.DomainList);
    }

    private static async Task<IResult> VerifyAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var verified = await context.RequestServices.GetRequiredService<DomainVerification>()
            .VerifyAsync(tenant, context.RouteString("domain"), context.RequestAborted);
        return verified.IsSuccess
            ? JsonResults.Ok(verified.Value.ToView(), SsoJsonContext.Default.DomainView)
            : ProblemResults.Write(verified.Error);
    }

    private static async Task<Tenant?> FindTenantAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static IResult TenantNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));
}
