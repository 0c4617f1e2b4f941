using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Sso.Protocols.OAuth;

/// <summary>An RP-Initiated Logout request (OIDC RP-Initiated Logout 1.0 §2), its parameters as sent.</summary>
public sealed record EndSessionRequest(string? IdTokenHint, string? ClientId, string? PostLogoutRedirectUri, string? State);

/// <summary>What a verified id_token_hint says: the session to end and whose it is.</summary>
public sealed record IdTokenHint(string Subject, string ClientId, string? SessionId, string? TenantId, string? ConnectionId)
{
    public override string ToString() => $"IdTokenHint {{ ClientId = {ClientId} }}";
}

/// <summary>
/// Reads and checks RP-Initiated Logout requests. The id_token_hint must be an id_token this
/// service issued: signed by one of its own keys and naming it as issuer. Logout §2: an expired
/// hint is still a valid hint (the user often logs out after the id_token has expired), so the
/// lifetime is not checked; a signature by any other key is refused.
/// </summary>
public static class EndSessionRequestValidator
{
    public const int MaxHintLength = 16 * 1024;

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public static Result<EndSessionRequest, OAuthError> Read(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (name is not ("id_token_hint" or "client_id" or "post_logout_redirect_uri" or "state")) continue;
            // RFC 6749 §3.1 applies here too: a parameter sent twice is refused, not guessed at.
            if (!seen.TryAdd(name, value)) return OAuthError.InvalidRequest($"'{name}' was sent more than once.");
        }
        var hint = Get("id_token_hint");
        if (hint is { Length: > MaxHintLength }) return OAuthError.InvalidRequest("'id_token_hint' is too long.");
        var redirect = Get("post_logout_redirect_uri");
        if (redirect is { Length: > RedirectUriPolicy.MaxLength })
            return OAuthError.InvalidRequest("'post_logout_redirect_uri' is too long.");
        return new EndSessionRequest(hint, Get("client_id"), redirect, Get("state"));

        string? Get(string name) => seen.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
    }

    /// <param name="signingKeys">Every key of this service's id_token signing ring (as the JWKS lists them).</param>
    public static async Task<Result<IdTokenHint, OAuthError>> ValidateHintAsync(string idTokenHint, string issuer,
        IReadOnlyList<SecurityKey> signingKeys, string? clientId)
    {
        JsonWebToken unverified;
        try
        {
            unverified = Handler.ReadJsonWebToken(idTokenHint);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException or FormatException)
        {
            return OAuthError.InvalidRequest("The id_token_hint is not a JWT.");
        }
        var result = await Handler.ValidateTokenAsync(unverified, new TokenValidationParameters
        {
            IssuerSigningKeys = signingKeys,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireSignedTokens = true,
            TryAllIssuerSigningKeys = true,
            ValidIssuer = issuer,
            ValidateIssuer = true,
            ValidateAudience = false,       // checked below against client_id
            ValidateLifetime = false,       // Logout §2: an expired id_token is an acceptable hint
            RequireExpirationTime = false,
            ValidateIssuerSigningKey = false,
            ValidateTokenReplay = false,
        });
        if (!result.IsValid)
            return result.Exception is SecurityTokenInvalidIssuerException
                ? OAuthError.InvalidRequest("The id_token_hint was not issued by this service.")
                : OAuthError.InvalidRequest("The id_token_hint's signature does not verify with this service's keys.");

        var audiences = unverified.Audiences.ToList();
        if (audiences.Count != 1) return OAuthError.InvalidRequest("The id_token_hint must name exactly one audience (the client).");
        if (clientId is not null && audiences[0] != clientId)
            return OAuthError.InvalidRequest("The id_token_hint was issued to another client than 'client_id'.");
        if (!unverified.TryGetPayloadValue<string>("sub", out var subject) || string.IsNullOrEmpty(subject))
            return OAuthError.InvalidRequest("The id_token_hint has no 'sub'.");
        return new IdTokenHint(subject, audiences[0], Claim("sid"), Claim("tenant"), Claim("connection"));

        string? Claim(string name) => unverified.TryGetPayloadValue<string>(name, out var value) && value.Length > 0 ? value : null;
    }
}
