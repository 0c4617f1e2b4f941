using System.Security.Cryptography;
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
    public const int DefaultExpiresInHours = 72;
    public const int MaxExpiresInHours = 720;
    public const int MaxActiveLinksPerTenant = 50;
    private const string Base = "/api/v1/tenants/{tenantId}/setup-links";
    private static readonly HashSet<string> Members = ["features", "expiresInHours"];

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateSetupLink", Base, ["POST"], AdminApi.Require(CreateAsync)),
        new("ListSetupLinks", Base, ["GET"], AdminApi.Require(ListAsync)),
        new("RevokeSetupLink", Base + "/{linkId}", ["DELETE"], AdminApi.Require(RevokeAsync)),
    ];

    /// <summary>The link's secret is in the fragment, which browsers never send: no request path or query carries it.</summary>
    public static string PortalUrl(SsoOptions options, string token) => options.Url("/setup#" + token);

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var read = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.JsonObject);
        if (!read.IsSuccess) return ProblemResults.Write(read.Error);
        var request = Validate(read.Value);
        if (!request.IsSuccess) return ProblemResults.Write(request.Error);

        var services = context.RequestServices;
        var store = services.GetRequiredService<SetupLinkStore>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        if ((await store.ListAsync(tenant.Id, context.RequestAborted)).Count(l => l.Status(now) == "active") >= MaxActiveLinksPerTenant)
            return ProblemResults.Write(Problem.Validation($"A tenant may have at most {MaxActiveLinksPerTenant} active setup links; revoke one first."));

        var (token, hash) = SetupToken.New(tenant.Id);
        var link = new SetupLink
        {
            Id = Ids.New("stl_"),
            TenantId = tenant.Id,
            Features = request.Value.Features,
            TokenHash = hash,
            CsrfKey = RandomNumberGenerator.GetBytes(32),
            CreatedAt = now,
            ExpiresAt = now.AddHours(request.Value.ExpiresInHours),
            CreatedBy = context.Items[AdminApi.KeyIdItem] as string,
            TokenInFragment = true,
        };
        await store.CreateAsync(link, context.RequestAborted);
        var view = link.ToView();
        view["url"] = PortalUrl(services.GetRequiredService<SsoOptions>(), token);
        return JsonResults.Created($"/api/v1/tenants/{tenant.Id}/setup-links/{link.Id}", view, SsoJsonContext.Default.JsonObject);
    }

    private sealed record CreateRequest(IReadOnlyList<string> Features, int ExpiresInHours);

    private static Result<CreateRequest, Problem> Validate(JsonObject body)
    {
        if (JsonMergePatch.FirstUnknownMember(body, Members) is { } unknown) return Problem.UnknownField(unknown);
        if (body["features"] is not JsonArray { Count: > 0 } array)
            return Problem.Validation("'features' must be a non-empty array of \"sso\" and/or \"dsync\".");
        var features = new List<string>();
        foreach (var item in array)
        {
            if (item is not JsonValue value || !value.TryGetValue<string>(out var feature) || !SetupFeatures.All.Contains(feature))
                return Problem.Validation("Each of 'features' must be \"sso\" or \"dsync\".");
            if (!features.Contains(feature)) features.Add(feature);
        }
        var hours = DefaultExpiresInHours;
        if (body["expiresInHours"] is { } node)
        {
            if (node is not JsonValue number || !number.TryGetValue<int>(out hours) || hours is < 1 or > MaxExpiresInHours)
                return Problem.Validation($"'expiresInHours' must be a whole number of hours from 1 to {MaxExpiresInHours}.");
        }
        return new CreateRequest(features, hours);
    }

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var services = context.RequestServices;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var links = await services.GetRequiredService<SetupLinkStore>().ListAsync(tenant.Id, context.RequestAborted);
        var data = new JsonArray();
        foreach (var link in links)
        {
            var view = link.ToView();
            view["status"] = link.Status(now);
            data.Add((JsonNode)view);
        }
        return JsonResults.Ok(new JsonObject { ["data"] = data, ["nextCursor"] = null }, SsoJsonContext.Default.JsonObject);
    }

    private static async Task<IResult> RevokeAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var services = context.RequestServices;
        var store = services.GetRequiredService<SetupLinkStore>();
        var linkId = context.RouteString("linkId");
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (!Ids.HasShape(linkId, "stl_") || await store.FindAsync(tenant.Id, linkId, context.RequestAborted) is not { } link)
                return ProblemResults.Write(Problem.NotFound("setup link", linkId));
            if (link.RevokedAt is not null) return Results.NoContent();
            switch (await store.ReplaceAsync(link, link with { RevokedAt = now }, context.RequestAborted))
            {
                case SaveOutcome.Saved:
                    // Order: the link is dead first (it can create nothing more), then what it created unconfirmed is disabled.
                    await services.GetRequiredService<Connections.ConnectionSetup>().DisableUnconfirmedAsync(tenant.Id, link.Id, context.RequestAborted);
                    return Results.NoContent();
                case SaveOutcome.NotFound: return ProblemResults.Write(Problem.NotFound("setup link", linkId));
            }
        }
        return ProblemResults.Write(Problem.Conflict("The setup link kept changing while it was revoked; retry the request."));
    }

    private static async Task<Tenant?> FindTenantAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static IResult TenantNotFound(HttpContext context) => ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));
}
