using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Setup;

/// <summary>
/// The management API's side of the setup portal: <c>POST/GET .../setup-links</c> and
/// <c>DELETE .../setup-links/{linkId}</c>. The link's URL is shown once, at creation.
/// </summary>
public static class SetupLinkEndpoints
{
    public const int DefaultExpiresInHours = SetupLinkIssuer.DefaultExpiresInHours;
    public const int MaxExpiresInHours = SetupLinkIssuer.MaxExpiresInHours;
    public const int MaxActiveLinksPerTenant = SetupLinkIssuer.MaxActiveLinksPerTenant;
    private const string Base = "/api/v1/tenants/{tenantId}/setup-links";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateSetupLink", Base, ["POST"], AdminApi.Require(CreateAsync)),
        new("ListSetupLinks", Base, ["GET"], AdminApi.Require(ListAsync)),
        new("RevokeSetupLink", Base + "/{linkId}", ["DELETE"], AdminApi.Require(RevokeAsync)),
    ];

    /// <summary>The link's secret is in the fragment, which browsers never send: no request path or query carries it.</summary>
    public static string PortalUrl(SsoOptions options, string token) => SetupLinkIssuer.PortalUrl(options, token);

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var read = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.JsonObject);
        if (!read.IsSuccess) return ProblemResults.Write(read.Error);
        var issued = await context.RequestServices.GetRequiredService<SetupLinkIssuer>()
            .CreateAsync(tenant, read.Value, context.Items[AdminApi.KeyIdItem] as string, context.RequestAborted);
        if (!issued.IsSuccess) return ProblemResults.Write(issued.Error);
        var view = issued.Value.Link.ToView();
        view["url"] = issued.Value.Url;
        return JsonResults.Created($"/api/v1/tenants/{tenant.Id}/setup-links/{issued.Value.Link.Id}", view, SsoJsonContext.Default.JsonObject);
    }

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var data = new JsonArray();
        foreach (var listed in await context.RequestServices.GetRequiredService<SetupLinkIssuer>().ListAsync(tenant.Id, context.RequestAborted))
        {
            var view = listed.Link.ToView();
            view["status"] = listed.Status;
            data.Add((JsonNode)view);
        }
        return JsonResults.Ok(new JsonObject { ["data"] = data, ["nextCursor"] = null }, SsoJsonContext.Default.JsonObject);
    }

    private static async Task<IResult> RevokeAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var revoked = await context.RequestServices.GetRequiredService<SetupLinkIssuer>()
            .RevokeAsync(tenant.Id, context.RouteString("linkId"), context.RequestAborted);
        return revoked.IsSuccess ? Results.NoContent() : ProblemResults.Write(revoked.Error);
    }

    private static async Task<Tenant?> FindTenantAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static IResult TenantNotFound(HttpContext context) => ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));
}
