using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// The work of <c>/oauth/token</c>: authenticates the client and redeems an authorization code
/// (the one grant this service issues) for an access token and an id_token, once.
/// </summary>
public sealed partial class TokenIssuance(ClientStore clients, AuthorizationCodeStore codes, AccessTokenStore accessTokens,
    TokenSigningKeys signingKeys, SsoOptions options, TimeProvider clock, ILoggerFactory loggers)
{
    private const string CodeNotValid = "The code is not valid, was already used, or was issued to another client.";
    public static readonly TimeSpan IdTokenLifetime = TimeSpan.FromHours(1);

    private readonly ILogger logger = loggers.CreateLogger("Sso.Functions.OAuth");

    /// <param name="parameters">The form's parameters.</param>
    /// <param name="authorization">The Authorization header, null when absent (client_secret_basic).</param>
    public async Task<Result<IssuedTokens, TokenRefusal>> RedeemAsync(IReadOnlyList<KeyValuePair<string, string>> parameters,
        string? authorization, CancellationToken cancellationToken)
    {
        var validated = TokenRequestValidator.Validate(parameters, authorization);
        if (!validated.IsSuccess)
        {
            LogTokenRefused(logger, validated.Error.Error.Code);
            return new TokenRefusal(validated.Error.Error.Code, validated.Error.Error.Description,
                validated.Error.IsInvalidClient, validated.Error.UsedBasic);
        }
        var request = validated.Value;

        // RFC 6749 §5.2: an unknown client and a wrong secret read the same.
        OAuthClient? client = null;
        if (ClientId.TryParse(request.ClientId, out var clientId))
            client = await clients.FindCachedAsync(clientId, cancellationToken);
        if (client is null || !client.SecretMatches(request.ClientSecret))
        {
            LogTokenRefused(logger, OAuthErrorCodes.InvalidClient);
            return new TokenRefusal(OAuthErrorCodes.InvalidClient, "The client id or secret is not valid.", true, request.UsedBasic);
        }

        var now = clock.GetUtcNow();
        var found = await codes.FindAsync(client.Id, request.Code, cancellationToken);
        if (found is { Redeemed: { } replayed })
        {
            // RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.5: a code used twice was stolen or leaked;
            // the tokens its first use issued stop working at once.
            if (now < replayed.ExpiresAt) await RevokeIssuedAsync(replayed, now, cancellationToken);
            LogCodeReplayed(logger, replayed.TenantId.Value);
            return TokenRefusal.Grant(CodeNotValid);
        }
        if (found?.Live is not { } code)
        {
            LogTokenRefused(logger, OAuthErrorCodes.InvalidGrant);
            return TokenRefusal.Grant(CodeNotValid);
        }
        var grant = TokenRequestValidator.CheckGrant(
            new CodeBinding(code.ClientId.Value, code.RedirectUri, code.CodeChallenge, code.ExpiresAt), request, now);
        if (!grant.IsSuccess)
        {
            // A failed redemption uses the code up too (no second guess at a code_verifier); no tokens were issued.
            await codes.RedeemAsync(code, request.Code, Tombstone(code, accessTokenHash: null, now), cancellationToken);
            LogTokenRefused(logger, grant.Error.Code);
            return new TokenRefusal(grant.Error.Code, grant.Error.Description);
        }
        var tenantId = code.User.TenantId;

        // Side by side: the tombstone that makes the code single use (it names the access token, so
        // a replay can revoke it), the revocation check (a user deprovisioned between sign-in and
        // redemption gets no tokens from a pending code), and the tokens themselves. The tokens are
        // handed out only if both checks allow; an access token row written for a refused
        // redemption is never shown to anyone and expires unused.
        var accessTokenValue = AccessTokenStore.NewValue(tenantId);
        var tombstone = Tombstone(code, AccessTokenStore.HashOf(accessTokenValue), now);
        var redeemed = codes.RedeemAsync(code, request.Code, tombstone, cancellationToken);
        var revoked = accessTokens.IsRevokedAsync(code.User, code.IssuedAt, cancellationToken);
        var accessTokenWrite = accessTokens.CreateAsync(
            new IssuedAccessToken(code.User, client.Id, code.Scope, now, now + AccessTokenStore.Lifetime), accessTokenValue, cancellationToken);
        var idTokenWrite = WriteIdTokenAsync(code, now, cancellationToken);
        await Task.WhenAll(redeemed, revoked, accessTokenWrite, idTokenWrite);
        if (!redeemed.Result)
        {
            // Another request redeemed this code between our read and our write: it is a replay too,
            // and the winner's tokens (same session) are revoked like any replay's.
            await RevokeIssuedAsync(tombstone with { AccessTokenHash = null }, now, cancellationToken);
            LogCodeReplayed(logger, tenantId.Value);
            return TokenRefusal.Grant(CodeNotValid) with { TenantId = tenantId };
        }
        if (revoked.Result)
        {
            LogTokenRefused(logger, OAuthErrorCodes.InvalidGrant);
            return TokenRefusal.Grant("The user's access was revoked after this code was issued.") with { TenantId = tenantId };
        }
        return new IssuedTokens(tenantId, accessTokenWrite.Result, idTokenWrite.Result, code.Scope);
    }

    private static RedeemedCode Tombstone(AuthorizationCode code, string? accessTokenHash, DateTimeOffset now) =>
        new(code.User.TenantId, code.User.SessionId, accessTokenHash, now, code.ExpiresAt + RedeemedCode.Margin);

    /// <summary>
    /// Every token of the code's sign-in session carries its <c>sid</c>, so marking the session
    /// revokes them, including one whose row is still being written by a concurrent redemption.
    /// </summary>
    private async Task RevokeIssuedAsync(RedeemedCode redeemed, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (redeemed.SessionId is { } sessionId)
            await accessTokens.RevokeSessionAsync(redeemed.TenantId, sessionId, now, cancellationToken);
        else if (redeemed.AccessTokenHash is { } tokenHash)
            await accessTokens.RevokeTokenAsync(redeemed.TenantId, tokenHash, cancellationToken);
    }

    private async Task<string> WriteIdTokenAsync(AuthorizationCode code, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var key = await signingKeys.GetCurrentAsync(cancellationToken);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authorization code redeemed twice; the tokens of its first use are revoked (tenant {TenantId})")]
    private static partial void LogCodeReplayed(ILogger logger, string tenantId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Token request refused: {Outcome}")]
    private static partial void LogTokenRefused(ILogger logger, string outcome);
}

/// <summary>A redeemed code's tokens, for the tenant <paramref name="TenantId"/>.</summary>
public sealed record IssuedTokens(TenantId TenantId, string AccessToken, string IdToken, string Scope);

/// <summary>
/// A refused token request (RFC 6749 §5.2). <paramref name="IsInvalidClient"/>: a 401 with the
/// challenge for the scheme the client used (<paramref name="UsedBasic"/>). <see cref="TenantId"/>:
/// the tenant once the code was known good, for the request log.
/// </summary>
public sealed record TokenRefusal(string Error, string Description, bool IsInvalidClient = false, bool UsedBasic = false)
{
    public TenantId? TenantId { get; init; }

    public static TokenRefusal Grant(string description) => new(OAuthErrorCodes.InvalidGrant, description);
}
