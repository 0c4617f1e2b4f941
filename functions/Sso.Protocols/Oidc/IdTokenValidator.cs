using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Sso.Protocols.Oidc;

/// <summary>What the id_token must say for this sign-in.</summary>
/// <param name="Issuer">The issuer from discovery; for Entra ID multi-tenant it holds <c>{tenantid}</c>.</param>
/// <param name="AllowedEntraTenantIds">The Entra tenants (<c>tid</c>) this connection admits: required with a <c>{tenantid}</c>
/// issuer; with any other issuer, when set, <c>tid</c> must be present and one of them.</param>
/// <param name="RequiredHostedDomains">When set (Google), <c>hd</c> must be one of these domains.</param>
public sealed record IdTokenExpectations(
    string Issuer,
    string ClientId,
    string Nonce,
    TimeSpan ClockSkew,
    IReadOnlyCollection<string>? AllowedEntraTenantIds = null,
    IReadOnlyCollection<string>? RequiredHostedDomains = null);

/// <summary>The claims of an id_token whose signature and every Core §3.1.3.7 rule were checked.</summary>
public sealed record ValidatedIdToken(
    string Issuer,
    string Subject,
    JsonObject Claims,
    IReadOnlyList<string> Groups,
    bool GroupsOverage,
    string? EntraTenantId,
    string? HostedDomain)
{
    public string? Email => ReadString(Claims, "email");
    public bool EmailVerified => ReadBool(Claims, "email_verified");
    public string? Name => ReadString(Claims, "name");
    public string? GivenName => ReadString(Claims, "given_name");
    public string? FamilyName => ReadString(Claims, "family_name");

    internal static string? ReadString(JsonObject claims, string name) =>
        claims[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    // Some IdPs (older Okta orgs, Cognito) send booleans as strings.
    internal static bool ReadBool(JsonObject claims, string name) => claims[name] switch
    {
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        JsonValue value when value.TryGetValue<string>(out var text) => string.Equals(text, "true", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}

/// <summary>
/// Validates an id_token as OpenID Connect Core 1.0 §3.1.3.7 asks of a client that received it from
/// the token endpoint. TLS to the token endpoint is not taken as proof: the signature is checked
/// against the IdP's JWKS (DESIGN.md §3.2). Keys and the time come in; nothing is fetched.
/// </summary>
public static class IdTokenValidator
{
    public const int MaxTokenLength = 64 * 1024;

    /// <summary>Asymmetric algorithms only: <c>none</c> and HMAC (a public key used as a shared secret) never verify.</summary>
    public static readonly IReadOnlySet<string> AllowedAlgorithms = new HashSet<string>(StringComparer.Ordinal)
    {
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    };

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public static async Task<Result<ValidatedIdToken, OidcFailure>> ValidateAsync(
        string unverifiedIdToken, IReadOnlyList<JsonWebKey> keys, IdTokenExpectations expected, DateTimeOffset now)
    {
        // Core §3.1.3.7 step 6-7 (signature) before any claim is trusted.
        var signed = await VerifySignatureAsync(unverifiedIdToken, keys);
        if (!signed.IsSuccess) return signed.Error;
        var claims = signed.Value;

        var issuer = CheckIssuer(claims, expected);
        if (!issuer.IsSuccess) return issuer.Error;
        if (CheckAudience(claims, expected.ClientId) is { } audience) return audience;
        if (CheckTimes(claims, expected.ClockSkew, now) is { } times) return times;
        if (CheckNonce(claims, expected.Nonce) is { } nonce) return nonce;

        // Core §2: sub is REQUIRED, locally unique and never reassigned, at most 255 ASCII characters.
        if (ValidatedIdToken.ReadString(claims, "sub") is not { Length: <= 255 } subject || !subject.All(char.IsAscii))
            return OidcFailure.Of(OidcFailureKind.SubjectMissing, "The id_token has no usable 'sub' claim.");

        if (CheckHostedDomain(claims, expected.RequiredHostedDomains) is { } domain) return domain;

        var (groups, overage) = ReadGroups(claims);
        return new ValidatedIdToken(issuer.Value, subject, claims, groups, overage,
            ValidatedIdToken.ReadString(claims, "tid"), ValidatedIdToken.ReadString(claims, "hd"));
    }

    private static async Task<Result<JsonObject, OidcFailure>> VerifySignatureAsync(string unverifiedIdToken, IReadOnlyList<JsonWebKey> keys)
    {
        if (string.IsNullOrEmpty(unverifiedIdToken) || unverifiedIdToken.Length > MaxTokenLength)
            return OidcFailure.Of(OidcFailureKind.IdTokenMalformed, "The id_token is missing or too long.");
        JsonWebToken unverified;
        try
        {
            unverified = Handler.ReadJsonWebToken(unverifiedIdToken);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenMalformedException or JsonException or FormatException)
        {
            return OidcFailure.Of(OidcFailureKind.IdTokenMalformed, "The id_token is not a compact JWS.");
        }
        if (unverified.IsEncrypted)
            return OidcFailure.Of(OidcFailureKind.IdTokenMalformed, "The id_token is encrypted (JWE); configure the IdP to send signed id_tokens only.");

        var algorithm = unverified.Alg ?? "";
        if (!AllowedAlgorithms.Contains(algorithm))
            return new OidcFailure(OidcFailureKind.AlgorithmNotAllowed,
                $"The id_token is signed with '{algorithm}'; only RS*, PS* and ES* signatures are accepted.",
                "RS256", algorithm);

        var kid = unverified.Kid;
        var candidates = string.IsNullOrEmpty(kid) ? keys : keys.Where(k => string.Equals(k.Kid, kid, StringComparison.Ordinal)).ToList();
        if (candidates.Count == 0)
            return new OidcFailure(OidcFailureKind.UnknownSigningKey,
                string.IsNullOrEmpty(kid)
                    ? "The IdP's JWKS has no signing key."
                    : $"The id_token names the key '{kid}', which the IdP's JWKS does not publish.",
                Actual: kid);

        var parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = candidates,
            ValidAlgorithms = AllowedAlgorithms,
            RequireSignedTokens = true,
            TryAllIssuerSigningKeys = true,
            ValidateIssuer = false,         // checked below, with Entra's template and a clear failure
            ValidateAudience = false,       // checked below, with azp
            ValidateLifetime = false,       // checked below, against the injected clock
            RequireExpirationTime = false,
            ValidateIssuerSigningKey = false,
            ValidateTokenReplay = false,
        };
        var result = await Handler.ValidateTokenAsync(unverified, parameters);
        if (!result.IsValid)
            return new OidcFailure(OidcFailureKind.SignatureInvalid,
                "The id_token's signature does not verify with the IdP's published keys.", Actual: kid);

        byte[] payload;
        try
        {
            payload = System.Buffers.Text.Base64Url.DecodeFromChars(unverified.EncodedPayload);
        }
        catch (FormatException)
        {
            return OidcFailure.Of(OidcFailureKind.IdTokenMalformed, "The id_token's payload is not base64url.");
        }
        return OidcJson.ParseObject(payload) is { } claims
            ? claims
            : OidcFailure.Of(OidcFailureKind.IdTokenMalformed, "The id_token's payload is not a JSON object (or repeats a claim).");
    }

    // Core §3.1.3.7 step 2: iss MUST exactly match the issuer; for Entra multi-tenant, the template with the token's tid.
    private static Result<string, OidcFailure> CheckIssuer(JsonObject claims, IdTokenExpectations expected)
    {
        var issuer = ValidatedIdToken.ReadString(claims, "iss");
        if (!expected.Issuer.Contains(OidcDiscoveryReader.EntraTenantPlaceholder, StringComparison.Ordinal))
        {
            if (issuer != expected.Issuer)
                return OidcFailure.Mismatch(OidcFailureKind.IssuerMismatch, "The id_token's issuer", expected.Issuer, issuer);
            // A single-tenant Entra issuer names the tenant already; tid must agree (a token of a
            // B2B guest's home tenant, or of another tenant, is not the customer's sign-in).
            if (expected.AllowedEntraTenantIds is { Count: > 0 } required
                && (ValidatedIdToken.ReadString(claims, "tid") is not { } singleTid || !required.Contains(singleTid, StringComparer.OrdinalIgnoreCase)))
                return new OidcFailure(OidcFailureKind.EntraTenantNotAllowed,
                    ValidatedIdToken.ReadString(claims, "tid") is { } other
                        ? $"The user signed in with Entra tenant '{other}', which this connection does not admit."
                        : "The id_token has no 'tid' (Entra tenant id); this connection admits only its Entra tenant.",
                    string.Join(",", required), ValidatedIdToken.ReadString(claims, "tid"));
            return issuer;
        }

        var tid = ValidatedIdToken.ReadString(claims, "tid");
        if (tid is null || !Guid.TryParseExact(tid, "D", out _))
            return OidcFailure.Mismatch(OidcFailureKind.IssuerMismatch, "The id_token's 'tid' (Entra tenant id)", "a tenant GUID", tid);
        var tenantIssuer = expected.Issuer.Replace(OidcDiscoveryReader.EntraTenantPlaceholder, tid, StringComparison.Ordinal);
        if (issuer != tenantIssuer)
            return OidcFailure.Mismatch(OidcFailureKind.IssuerMismatch, "The id_token's issuer", tenantIssuer, issuer);
        // A multi-tenant app admits every Entra tenant in the world; the connection names the customer's.
        if (expected.AllowedEntraTenantIds is not { Count: > 0 } allowed
            || !allowed.Contains(tid, StringComparer.OrdinalIgnoreCase))
            return new OidcFailure(OidcFailureKind.EntraTenantNotAllowed,
                $"The user signed in with Entra tenant '{tid}', which this connection does not admit.",
                string.Join(",", expected.AllowedEntraTenantIds ?? []), tid);
        return issuer;
    }

    // Core §3.1.3.7 steps 3-5: aud contains our client_id; with several audiences azp is required; azp, when present, is us.
    private static OidcFailure? CheckAudience(JsonObject claims, string clientId)
    {
        var audiences = claims["aud"] switch
        {
            JsonValue value when value.TryGetValue<string>(out var single) => [single],
            JsonArray array => array.Select(a => a is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList(),
            _ => new List<string>(),
        };
        if (!audiences.Contains(clientId, StringComparer.Ordinal))
            return OidcFailure.Mismatch(OidcFailureKind.AudienceMismatch, "The id_token's audience", clientId,
                audiences.Count == 0 ? null : string.Join(",", audiences.Take(5)));
        var azp = ValidatedIdToken.ReadString(claims, "azp");
        if (audiences.Count > 1 && azp is null)
            return OidcFailure.Mismatch(OidcFailureKind.AuthorizedPartyMismatch, "The id_token has several audiences and its 'azp'", clientId, null);
        if (azp is not null && azp != clientId)
            return OidcFailure.Mismatch(OidcFailureKind.AuthorizedPartyMismatch, "The id_token's 'azp'", clientId, azp);
        return null;
    }

    // Core §3.1.3.7 steps 9-10: exp in the future, iat not in the future; nbf (RFC 7519 §4.1.5) when present. All with skew.
    private static OidcFailure? CheckTimes(JsonObject claims, TimeSpan skew, DateTimeOffset now)
    {
        if (ReadTime(claims, "exp") is not { } expires)
            return OidcFailure.Of(OidcFailureKind.IdTokenMalformed, "The id_token has no numeric 'exp' claim.");
        if (now >= expires + skew)
            return new OidcFailure(OidcFailureKind.Expired,
                $"The id_token expired at {expires:O}; it is now {now:O} (clock skew allowed: {skew.TotalSeconds:0} s).",
                $"after {now - skew:O}", expires.ToString("O"));
        if (ReadTime(claims, "nbf") is { } notBefore && now + skew < notBefore)
            return new OidcFailure(OidcFailureKind.NotYetValid,
                $"The id_token is not valid before {notBefore:O}; it is now {now:O}. Check the IdP's clock.",
                $"before {now + skew:O}", notBefore.ToString("O"));
        if (ReadTime(claims, "iat") is not { } issuedAt)
            return OidcFailure.Of(OidcFailureKind.IdTokenMalformed, "The id_token has no numeric 'iat' claim.");
        if (issuedAt > now + skew)
            return new OidcFailure(OidcFailureKind.IssuedInFuture,
                $"The id_token was issued at {issuedAt:O}, after now ({now:O}) plus the skew. Check the IdP's clock.",
                $"before {now + skew:O}", issuedAt.ToString("O"));
        return null;
    }

    // Core §3.1.3.7 step 11: the nonce we sent must come back (it binds the token to this browser's sign-in).
    private static OidcFailure? CheckNonce(JsonObject claims, string nonce)
    {
        var actual = ValidatedIdToken.ReadString(claims, "nonce");
        if (actual is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(actual), System.Text.Encoding.UTF8.GetBytes(nonce)))
            return null;
        // The nonce is a one-time value, not a secret, but it is not echoed either: it would only help a replay.
        return new OidcFailure(OidcFailureKind.NonceMismatch,
            actual is null ? "The id_token carries no 'nonce'; the IdP must echo the one sent." : "The id_token's 'nonce' is not the one this sign-in sent.");
    }

    // Google Workspace: any Google account can sign in to an app; 'hd' names the Workspace domain.
    private static OidcFailure? CheckHostedDomain(JsonObject claims, IReadOnlyCollection<string>? domains)
    {
        if (domains is null) return null;
        var hd = ValidatedIdToken.ReadString(claims, "hd");
        if (hd is not null && domains.Contains(hd, StringComparer.OrdinalIgnoreCase)) return null;
        return new OidcFailure(OidcFailureKind.HostedDomainNotAllowed,
            hd is null
                ? "The Google account belongs to no Workspace domain ('hd' is missing); only the tenant's domains may sign in."
                : $"The Google account's Workspace domain is '{hd}', which is not one of the tenant's domains.",
            string.Join(",", domains.Take(10)), hd);
    }

    /// <summary>
    /// Entra ID puts at most 200 groups in a JWT; beyond that it sends <c>_claim_names.groups</c>
    /// (a Graph source) or <c>hasgroups: true</c> instead. Those groups were not delivered: the
    /// caller records the overage and does not treat the user as a member of no group.
    /// </summary>
    private static (IReadOnlyList<string> Groups, bool Overage) ReadGroups(JsonObject claims)
    {
        var overage = claims["_claim_names"] is JsonObject names && names.ContainsKey("groups")
                      || ValidatedIdToken.ReadBool(claims, "hasgroups");
        var groups = claims["groups"] switch
        {
            JsonArray array => array.Select(g => g is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList(),
            JsonValue value when value.TryGetValue<string>(out var single) => [single],
            _ => new List<string>(),
        };
        return (groups, overage);
    }

    private static DateTimeOffset? ReadTime(JsonObject claims, string name)
    {
        if (claims[name] is not JsonValue value) return null;
        double seconds;
        if (value.TryGetValue<long>(out var whole)) seconds = whole;
        else if (value.TryGetValue<double>(out var fractional)) seconds = fractional;
        else return null;
        if (double.IsNaN(seconds) || seconds < 0 || seconds > 253402300799) return null;
        return DateTimeOffset.UnixEpoch.AddSeconds(Math.Floor(seconds));
    }
}
