using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.DirectorySync;

/// <summary>The management API's face of directory sync: directories, their SCIM tokens, and the synced state.</summary>
public static class DirectoryEndpoints
{
    public const string DefaultTokenName = "default";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateDirectory", "/api/v1/tenants/{tenantId}/directories", ["POST"], AdminApi.Require(CreateAsync)),
        new("GetDirectory", "/api/v1/tenants/{tenantId}/directories/{directoryId}", ["GET"], AdminApi.Require(GetAsync)),
        new("CreateDirectoryToken", "/api/v1/tenants/{tenantId}/directories/{directoryId}/tokens", ["POST"], AdminApi.Require(CreateTokenAsync)),
        new("ListDirectoryTokens", "/api/v1/tenants/{tenantId}/directories/{directoryId}/tokens", ["GET"], AdminApi.Require(ListTokensAsync)),
        new("RevokeDirectoryToken", "/api/v1/tenants/{tenantId}/directories/{directoryId}/tokens/{tokenId}", ["DELETE"], AdminApi.Require(RevokeTokenAsync)),
        new("ListDirectoryUsers", "/api/v1/directories/{directoryId}/users", ["GET"], AdminApi.Require(ListUsersAsync)),
        new("ListDirectoryGroups", "/api/v1/directories/{directoryId}/groups", ["GET"], AdminApi.Require(ListGroupsAsync)),
    ];

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var request = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.CreateDirectoryRequest);
        if (!request.IsSuccess) return ProblemResults.Write(request.Error);
        var provider = request.Value.Provider?.Trim().ToLowerInvariant();
        if (provider == DirectoryProviders.GoogleDirectory && Provisioning(context).AuthorizationOf(provider) is { } authorization)
            return await CreatePulledAsync(context, tenant, request.Value.Name, authorization);
        var created = await Provisioning(context).CreateWithTokenAsync(tenant.Id, request.Value.Name, request.Value.Provider,
            DefaultTokenName, CreatorOf(context), context.RequestAborted);
        if (!created.IsSuccess) return ProblemResults.Write(created.Error);
        var (directory, token, plaintext) = created.Value;
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        return JsonResults.Created($"/api/v1/tenants/{tenant.Id}/directories/{directory.Id}",
            new CreatedDirectory(directory.Id.Value, tenant.Id.Value, directory.Name, directory.Provider, ScimBaseUrl(options, directory.Id),
                plaintext, token.Id),
            SsoJsonContext.Default.CreatedDirectory);
    }

    private static DirectoryProvisioning Provisioning(HttpContext context) => context.RequestServices.GetRequiredService<DirectoryProvisioning>();

    /// <summary>A directory this service pulls (no SCIM token): created waiting for the customer's admin to authorize it.</summary>
    private static async Task<IResult> CreatePulledAsync(HttpContext context, Tenant tenant, string? name, IDirectoryAuthorization authorization)
    {
        var created = await Provisioning(context).CreatePulledAsync(tenant.Id, name, authorization, context.RequestAborted);
        if (!created.IsSuccess) return ProblemResults.Write(created.Error);
        var (directory, state) = created.Value;
        var view = PulledView(directory, state);
        view["authorizeUrl"] = await authorization.StartAsync(directory, context.RequestAborted);
        context.Response.Headers.Location = $"/api/v1/tenants/{tenant.Id}/directories/{directory.Id}";
        return Json(view, StatusCodes.Status201Created);
    }

    public static JsonObject PulledView(DirectoryRecord directory, DirectorySyncState state)
    {
        var view = new JsonObject
        {
            ["id"] = directory.Id.Value,
            ["tenantId"] = directory.TenantId.Value,
            ["name"] = directory.Name,
            ["provider"] = directory.Provider,
            ["createdAt"] = directory.CreatedAt.ToString("O"),
        };
        foreach (var (key, value) in state.View()) view[key] = value?.DeepClone();
        return view;
    }

    public static string ScimBaseUrl(SsoOptions options, DirectoryId id) => options.Url($"/scim/v2/{id}");

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        if (await FindOwnedDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        if (directory.Provider == DirectoryProviders.GoogleDirectory
            && await context.RequestServices.GetRequiredService<DirectorySyncStore>().FindSyncStateAsync(directory.Id, context.RequestAborted) is { } state)
            return Json(PulledView(directory, state));
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        return JsonResults.Ok(new DirectoryView(directory.Id.Value, directory.TenantId.Value, directory.Name, directory.Provider,
            ScimBaseUrl(options, directory.Id), directory.CreatedAt), SsoJsonContext.Default.DirectoryView);
    }

    private static async Task<IResult> CreateTokenAsync(HttpContext context)
    {
        if (await FindOwnedDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        CreateTokenRequest? request = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var read = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.CreateTokenRequest);
            if (!read.IsSuccess) return ProblemResults.Write(read.Error);
            request = read.Value;
        }
        var issued = await Provisioning(context).CreateTokenAsync(directory.Id, request?.Name, request?.ExpiresAt, CreatorOf(context),
            context.RequestAborted);
        if (!issued.IsSuccess) return ProblemResults.Write(issued.Error);
        var (token, plaintext) = issued.Value;
        return JsonResults.Created($"/api/v1/tenants/{directory.TenantId}/directories/{directory.Id}/tokens/{token.Id}",
            new CreatedToken(token.Id, plaintext, token.Name, token.ExpiresAt), SsoJsonContext.Default.CreatedToken);
    }

    /// <summary>Who issues a token: the id of the request's admin key; null outside the management API.</summary>
    public static string? CreatorOf(HttpContext context) => context.Items[AdminApi.KeyIdItem] as string;

    private static async Task<IResult> ListTokensAsync(HttpContext context)
    {
        if (await FindOwnedDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        var tokens = await context.RequestServices.GetRequiredService<DirectoryRecordStore>().ListTokensAsync(directory.Id, context.RequestAborted);
        return JsonResults.Ok(new TokenList(tokens.Select(t => new TokenView(t.Id, t.Name, t.CreatedBy, t.CreatedAt, t.LastUsedAt, t.ExpiresAt))
                .ToArray()),
            SsoJsonContext.Default.TokenList);
    }

    private static async Task<IResult> RevokeTokenAsync(HttpContext context)
    {
        if (await FindOwnedDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        var revoked = await Provisioning(context).RevokeTokenAsync(directory.Id, context.RouteString("tokenId"), context.RequestAborted);
        return revoked.IsSuccess ? Results.NoContent() : ProblemResults.Write(revoked.Error);
    }

    private static DirectoryPaging Paging(HttpContext context) =>
        DirectoryPaging.Parse(context.Request.Query["cursor"].ToString(), context.Request.Query["limit"].ToString());

    private static DirectoryListing Listing(HttpContext context) => context.RequestServices.GetRequiredService<DirectoryListing>();

    private static async Task<IResult> ListUsersAsync(HttpContext context)
    {
        if (await FindDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        return Write(await Listing(context).ListUsersAsync(directory, Paging(context), context.RequestAborted));
    }

    private static async Task<IResult> ListGroupsAsync(HttpContext context)
    {
        if (await FindDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        return Write(await Listing(context).ListGroupsAsync(directory, Paging(context), context.RequestAborted));
    }

    private static IResult Write(DirectoryPage page) =>
        Json(new JsonObject { ["data"] = new JsonArray(page.Rows.Select(r => (JsonNode)r).ToArray()), ["nextCursor"] = page.NextCursor });

    public static IResult Json(JsonNode body, int status = StatusCodes.Status200OK) =>
        Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8, status);

    private static async Task<Tenant?> FindTenantAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static async Task<DirectoryRecord?> FindDirectoryAsync(HttpContext context)
    {
        if (!DirectoryId.TryParse(context.RouteString("directoryId"), out var id)) return null;
        var directory = await context.RequestServices.GetRequiredService<DirectoryRecordStore>().FindDirectoryAsync(id, context.RequestAborted);
        if (directory is not null) context.Items[RequestPipeline.TenantItem] = directory.TenantId.Value;
        return directory;
    }

    /// <summary>The directory of the route, only when it belongs to the route's tenant.</summary>
    private static async Task<DirectoryRecord?> FindOwnedDirectoryAsync(HttpContext context)
    {
        var directory = await FindDirectoryAsync(context);
        return directory is not null && directory.TenantId.Value == context.RouteString("tenantId") ? directory : null;
    }

    private static IResult TenantNotFound(HttpContext context) => ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));

    private static IResult DirectoryNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("directory", context.RouteString("directoryId")));
}

public sealed class CreateDirectoryRequest
{
    public string? Name { get; init; }
    public string? Provider { get; init; }
}

public sealed class CreateTokenRequest
{
    public string? Name { get; init; }

    /// <summary>RFC 3339, read by <see cref="TokenExpiry.Parse"/> so a bad value gets a clear problem.</summary>
    public string? ExpiresAt { get; init; }
}

public sealed record CreatedDirectory(string Id, string TenantId, string Name, string Provider, string ScimBaseUrl, string Token, string TokenId);

public sealed record DirectoryView(string Id, string TenantId, string Name, string Provider, string ScimBaseUrl, DateTimeOffset CreatedAt);

public sealed record CreatedToken(string Id, string Token, string? Name, DateTimeOffset? ExpiresAt);

public sealed record TokenView(
    string Id, string? Name, string? CreatedBy, DateTimeOffset Created, DateTimeOffset? LastUsed, DateTimeOffset? ExpiresAt);

public sealed record TokenList(TokenView[] Data);
