using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// <c>/oauth/token</c> (authorization_code grant, redeemed by <see cref="TokenIssuance"/>) and
/// <c>/oauth/userinfo</c> (the token's claims, from <see cref="UserInfoLookup"/>).
/// </summary>
public static class TokenEndpoints
{
    public const int MaxFormBytes = 16 * 1024;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("OAuthToken", "/oauth/token", ["POST"], TokenAsync),
        // OIDC Core §5.3.1: userinfo supports GET and POST.
        new("OAuthUserInfo", "/oauth/userinfo", ["GET", "POST"], UserInfoAsync),
    ];

    private static async Task<IResult> TokenAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        if (!context.Request.HasFormContentType || context.Request.ContentLength > MaxFormBytes)
            return OAuthResults.TokenError(OAuthErrorCodes.InvalidRequest, "Send the token request as application/x-www-form-urlencoded.");
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException)
        {
            return OAuthResults.TokenError(OAuthErrorCodes.InvalidRequest, "The form body could not be read.");
        }
        var parameters = form.SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? ""))).ToList();
        var authorization = context.Request.Headers.Authorization.ToString() is { Length: > 0 } h ? h : null;
        var redeemed = await context.RequestServices.GetRequiredService<TokenIssuance>().RedeemAsync(parameters, authorization, cancellationToken);
        if (!redeemed.TryGetValue(out var tokens, out var refusal))
        {
            if (refusal.TenantId is { } refusedTenant) context.Items[RequestPipeline.TenantItem] = refusedTenant.Value;
            return refusal.IsInvalidClient
                ? OAuthResults.InvalidClient(refusal.Description, refusal.UsedBasic)
                : OAuthResults.TokenError(refusal.Error, refusal.Description);
        }
        context.Items[RequestPipeline.TenantItem] = tokens.TenantId.Value;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        return JsonResults.Ok(new JsonObject
        {
            ["access_token"] = tokens.AccessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = (long)AccessTokenStore.Lifetime.TotalSeconds,
            ["id_token"] = tokens.IdToken,
            ["scope"] = tokens.Scope,
        }, SsoJsonContext.Default.JsonObject);
    }

    private static async Task<IResult> UserInfoAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return OAuthResults.MissingToken();
        var found = await context.RequestServices.GetRequiredService<UserInfoLookup>()
            .LookupAsync(header["Bearer ".Length..].Trim(), context.RequestAborted);
        if (!found.TryGetValue(out var userInfo, out var refusal)) return OAuthResults.InvalidToken(refusal.Description);
        context.Items[RequestPipeline.TenantItem] = userInfo.TenantId.Value;
        context.Response.Headers.CacheControl = "no-store";
        return JsonResults.Ok(userInfo.Claims, SsoJsonContext.Default.JsonObject);
    }
}
