using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary><c>/oauth/token</c> (authorization_code grant) and <c>/oauth/userinfo</c>.</summary>
public static partial class TokenEndpoints
{
    public const int MaxFormBytes = 16 * 1024;
    private const string CodeNotValid = "The code is not valid, was already used, or was issued to another client.";
    public static readonly TimeSpan IdTokenLifetime = TimeSpan.FromHours(1);

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("OAuthToken", "/oauth/token", ["POST"], TokenAsync),
        // OIDC Core §5.3.1: userinfo supports GET and POST.
        new("OAuthUserInfo", "/oauth/userinfo", ["GET", "POST"], UserInfoAsync),
    ];

    private static async Task<IResult> TokenAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var cancellationToken = context.RequestAborted;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.OAuth");
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
        var validated = TokenRequestValidator.Validate(parameters, context.Request.Headers.Authorization.ToString() is { Length: > 0 } h ? h : null);
        if (!validated.IsSuccess)
        {
            LogTokenRefused(logger, validated.Error.Error.Code);
            return validated.Error.IsInvalidClient
                ? OAuthResults.InvalidClient(validated.Error.Error.Description, validated.Error.UsedBasic)
                : OAuthResults.TokenError(validated.Error.Error.Code, validated.Error.Error.Description);
        }
        var request = validated.Value;

        // RFC 6749 §5.2: an unknown client and a wrong secret read the same.
        OAuthClient? client = null;
        if (ClientId.TryParse(request.ClientId, out var clientId))
            client = await services.GetRequiredService<ClientStore>().FindCachedAsync(clientId, cancellationToken);
        if (client is null || !client.SecretMatches(request.ClientSecret))
        {
            LogTokenRefused(logger, OAuthErrorCodes.InvalidClient);
            return OAuthResults.InvalidClient("The client id or secret is not valid.", request.UsedBasic);
        }

        var codes = services.GetRequiredService<AuthorizationCodeStore>();
        var accessTokens = services.GetRequiredService<AccessTokenStore>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var found = await codes.FindAsync(client.Id, request.Code, cancellationToken);
        if (found is { Redeemed: { } replayed })
        {
            // RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.5: a code used twice was stolen or leaked;
            // the tokens its first use issued stop working at once.
            if (now < replayed.ExpiresAt) await RevokeIssuedAsync(accessTokens, replayed, now, cancellationToken);
            LogCodeReplayed(logger, replayed.TenantId.Value);
            return OAuthResults.TokenError(OAuthErrorCodes.InvalidGrant, CodeNotValid);
        }
        if (found?.Live is not { } code)
        {
            LogTokenRefused(logger, OAuthErrorCodes.InvalidGrant);
            return OAuthResults.TokenError(OAuthErrorCodes.InvalidGrant, CodeNotValid);
        }
        var grant = TokenRequestValidator.CheckGrant(
            new CodeBinding(code.ClientId.Value, code.RedirectUri, code.CodeChallenge, code.ExpiresAt), request, now);
        if (!grant.IsSuccess)
        {
            // A failed redemption uses the code up too (no second guess at a code_verifier); no tokens were issued.
            await codes.RedeemAsync(code, request.Code, Tombstone(code, accessTokenHash: null, now), cancellationToken);
            LogTokenRefused(logger, grant.Error.Code);
            return OAuthResults.TokenError(grant.Error.Code, grant.Error.Description);
        }
        context.Items[RequestPipeline.TenantItem] = code.User.TenantId.Value;

        // Side by side: the tombstone that makes the code single use (it names the access token, so
        // a replay can revoke it), the revocation check (a user deprovisioned between sign-in and
        // redemption gets no tokens from a pending code), and the tokens themselves. The tokens are
        // handed out only if both checks allow; an access token row written for a refused
        // redemption is never shown to anyone and expires unused.
        var accessTokenValue = AccessTokenStore.NewValue(code.User.TenantId);
        var tombstone = Tombstone(code, AccessTokenStore.HashOf(accessTokenValue), now);
        var redeemed = codes.RedeemAsync(code, request.Code, tombstone, cancellationToken);
        var revoked = accessTokens.IsRevokedAsync(code.User, code.IssuedAt, cancellationToken);
        var accessTokenWrite = accessTokens.CreateAsync(
            new IssuedAccessToken(code.User, client.Id, code.Scope, now, now + AccessTokenStore.Lifetime), accessTokenValue, cancellationToken);
        var idTokenWrite = WriteIdTokenAsync(services, code, now, cancellationToken);
        await Task.WhenAll(redeemed, revoked, accessTokenWrite, idTokenWrite);
        if (!redeemed.Result)
        {
            // Another request redeemed this code between our read and our write: it is a replay too,
            // and the winner's tokens (same session) are revoked like any replay's.
            await RevokeIssuedAsync(accessTokens, tombstone with { AccessTokenHash = null }, now, cancellationToken);
            LogCodeReplayed(logger, code.User.TenantId.Value);
            return OAuthResults.TokenError(OAuthErrorCodes.InvalidGrant, CodeNotValid);
        }
        if (revoked.Result)
        {
            LogTokenRefused(logger, OAuthErrorCodes.InvalidGrant);
            return OAuthResults.TokenError(OAuthErrorCodes.InvalidGrant, "The user's access was revoked after this code was issued.");
        }
        var accessToken = accessTokenWrite.Result;
        var idToken = idTokenWrite.Result;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        return JsonResults.Ok(new JsonObject
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = (long)AccessTokenStore.Lifetime.TotalSeconds,
            ["id_token"] = idToken,
            ["scope"] = code.Scope,
        }, SsoJsonContext.Default.JsonObject);
    }

    private static RedeemedCode Tombstone(AuthorizationCode code, string? accessTokenHash, DateTimeOffset now) =>
        new(code.User.TenantId, code.User.SessionId, accessTokenHash, now, code.ExpiresAt + RedeemedCode.Margin);

    /// <summary>
    /// Every token of the code's sign-in session carries its <c>sid</c>, so marking the session
    /// revokes them, including one whose row is still being written by a concurrent redemption.
    /// </summary>
    private static async Task RevokeIssuedAsync(AccessTokenStore accessTokens, RedeemedCode redeemed, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (redeemed.SessionId is { } sessionId)
            await accessTokens.RevokeSessionAsync(redeemed.TenantId, sessionId, now, cancellationToken);
        else if (redeemed.AccessTokenHash is { } tokenHash)
            await accessTokens.RevokeTokenAsync(redeemed.TenantId, tokenHash, cancellationToken);
    }

    private static async Task<string> WriteIdTokenAsync(IServiceProvider services, AuthorizationCode code, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<SsoOptions>();
        var key = await services.GetRequiredService<TokenSigningKeys>().GetCurrentAsync(cancellationToken);
        var user = code.User;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = user.Subject,
            ["auth_time"] = user.AuthTime.ToUnixTimeSeconds(),
            ["email"] = user.Email,
            ["email_verified"] = user.EmailVerified,
            ["tenant"] = user.TenantId.Value,
            ["connection"] = user.ConnectionId.Value,
            ["role"] = user.Role,
            ["groups"] = user.Groups.ToArray(),
        };
        if (user.Name is { } name) claims["name"] = name;
        if (user.GivenName is { } given) claims["given_name"] = given;
        if (user.FamilyName is { } family) claims["family_name"] = family;
        if (code.Nonce is { } nonce) claims["nonce"] = nonce;
        // OIDC Front-Channel / Back-Channel Logout §2 and RP-Initiated Logout: the session this token belongs to.
        if (user.SessionId is { } sid) claims["sid"] = sid;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = code.ClientId.Value,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + IdTokenLifetime).UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key.Rsa) { KeyId = key.Kid }, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static async Task<IResult> UserInfoAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return OAuthResults.MissingToken();
        var presented = header["Bearer ".Length..].Trim();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var token = await services.GetRequiredService<AccessTokenStore>().FindValidAsync(presented, now, context.RequestAborted);
        if (token is null) return OAuthResults.InvalidToken("The access token is not valid, has expired or was revoked.");
        context.Items[RequestPipeline.TenantItem] = token.User.TenantId.Value;
        var user = token.User;
        context.Response.Headers.CacheControl = "no-store";
        return JsonResults.Ok(new JsonObject
        {
            ["sub"] = user.Subject,
            ["email"] = user.Email,
            ["email_verified"] = user.EmailVerified,
            ["given_name"] = user.GivenName,
            ["family_name"] = user.FamilyName,
            ["name"] = user.Name,
            ["tenant"] = user.TenantId.Value,
            ["connection"] = user.ConnectionId.Value,
            ["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray()),
            ["role"] = user.Role,
            ["idp"] = user.IdpAttributes.DeepClone(),
        }, SsoJsonContext.Default.JsonObject);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authorization code redeemed twice; the tokens of its first use are revoked (tenant {TenantId})")]
    private static partial void LogCodeReplayed(ILogger logger, string tenantId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Token request refused: {Outcome}")]
    private static partial void LogTokenRefused(ILogger logger, string outcome);
}
