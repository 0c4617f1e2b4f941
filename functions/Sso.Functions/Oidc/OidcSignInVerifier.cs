using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tenants;
using Sso.Protocols.OAuth;
using Sso.Protocols.Oidc;

namespace Sso.Functions.Oidc;

/// <summary>The IdP's authorization response as the callback received it; a repeated parameter keeps every value.</summary>
public sealed record OidcAuthorizationResponse(IReadOnlyList<string> Iss, string Error, IReadOnlyList<string> Code);

/// <summary>Why an OIDC answer was refused: the failure for the log, the OAuth error and <see cref="SignInRefusals"/> reason for the client.</summary>
public sealed record OidcRefusal(OidcFailure Failure, string Error, string Description);

/// <summary>
/// The OIDC sign-in's second half: checks the authorization response against the pending sign-in
/// (issuer, RFC 9207 <c>iss</c>, nonce, PKCE verifier), exchanges the code at the IdP, validates
/// the id_token (refetching the JWKS once for an unknown key), reads UserInfo when the token lacks
/// claims, and checks email verification and step-up freshness. Returns the verified identity.
/// </summary>
public sealed class OidcSignInVerifier(OidcProviderCache cache, ISecretStore secrets, IdpHttpClient idp, TenantStore tenants,
    SsoOptions options, TimeProvider clock)
{
    /// <summary>The authorization-response errors (RFC 6749 §4.1.2.1, Core §3.1.2.6) passed on to the client as they are.</summary>
    private static readonly HashSet<string> PassedOnErrors = new(StringComparer.Ordinal)
    {
        OAuthErrorCodes.AccessDenied, OAuthErrorCodes.TemporarilyUnavailable, OAuthErrorCodes.ServerError,
        OAuthErrorCodes.LoginRequired, "consent_required", "interaction_required", "account_selection_required",
    };

    private static OidcRefusal Rejected(OidcFailure failure) => failure.Kind switch
    {
        OidcFailureKind.IdpUnreachable or OidcFailureKind.IdpTimeout or OidcFailureKind.IdpResponseTooLarge
            or OidcFailureKind.IdpHttpError or OidcFailureKind.DiscoveryMalformed or OidcFailureKind.JwksMalformed
            => new(failure, OAuthErrorCodes.TemporarilyUnavailable, OidcRefusals.IdpUnavailable),
        OidcFailureKind.EntraTenantNotAllowed or OidcFailureKind.HostedDomainNotAllowed
            => new(failure, OAuthErrorCodes.AccessDenied, OidcRefusals.IdpTenantMismatch),
        OidcFailureKind.EmailNotVerified => new(failure, OAuthErrorCodes.AccessDenied, OidcRefusals.EmailNotVerified),
        OidcFailureKind.AuthTimeMissing or OidcFailureKind.AuthenticationTooOld
            => new(failure, OAuthErrorCodes.AccessDenied, SignInRefusals.StaleAuthentication),
        _ => new(failure, OAuthErrorCodes.AccessDenied, SignInRefusals.IdpResponseRejected),
    };

    public async Task<Result<VerifiedIdentity, OidcRefusal>> VerifyAsync(PendingSignIn pending, OidcConnectionConfig config,
        OidcAuthorizationResponse response, CancellationToken cancellationToken)
    {
        // Independent reads side by side: the IdP's discovery document (cached) and the connection's client secret.
        var metadataRead = cache.GetMetadataAsync(config.Issuer, cancellationToken);
        var secretRead = secrets.GetAsync(OidcConnectionSetup.ClientSecretName(pending.ConnectionId), cancellationToken);
        await Task.WhenAll(metadataRead, secretRead);
        var metadata = metadataRead.Result;
        if (!metadata.IsSuccess) return Rejected(metadata.Error);
        var provider = metadata.Value;
        // The connection's issuer may have been changed while the user was at the old IdP: its code is not for the new one.
        if (pending.IdpString(OidcSignInStarter.IssuerKey) is { } startedAt && startedAt != provider.Issuer)
            return Rejected(OidcFailure.Mismatch(OidcFailureKind.CallbackIssuerMismatch, "The IdP this sign-in started at", provider.Issuer, startedAt));

        // RFC 9207 §2.4: with one redirect URI for every IdP, iss tells which IdP answered (mix-up defence).
        if (CheckIssParameter(response.Iss, provider) is { } mixUp) return Rejected(mixUp);

        if (response.Error is { Length: > 0 } idpError)
        {
            var passedOn = PassedOnErrors.Contains(idpError) ? idpError : OAuthErrorCodes.AccessDenied;
            return new OidcRefusal(new OidcFailure(OidcFailureKind.IdpError, $"The IdP answered the sign-in with '{Printable(idpError)}'.",
                Actual: Printable(idpError)), passedOn, OidcRefusals.IdpError);
        }
        if (response.Code is not [{ Length: > 0 and <= 4096 } code])
            return Rejected(OidcFailure.Of(OidcFailureKind.TokenResponseMalformed, "The IdP's answer has no authorization code."));
        if (pending.IdpString(OidcSignInStarter.NonceKey) is not { } nonce
            || pending.IdpString(OidcSignInStarter.CodeVerifierKey) is not { } codeVerifier)
            return Rejected(OidcFailure.Of(OidcFailureKind.NonceMismatch, "The pending sign-in was not started for OIDC."));

        var secret = secretRead.Result;
        if (secret is null)
            return Rejected(OidcFailure.Of(OidcFailureKind.TokenEndpointError, "The connection's client secret is missing from the secret store."));

        var tokens = await ExchangeCodeAsync(provider, config.ClientId, secret, options.Url(OidcCallbackEndpoints.Route), code, codeVerifier,
            cancellationToken);
        if (!tokens.IsSuccess) return Rejected(tokens.Error);

        var expectations = new IdTokenExpectations(provider.Issuer, config.ClientId, nonce, config.ClockSkew, config.ExpectedEntraTenantIds,
            config.RequiredHostedDomains(config.IsGoogle ? await TenantDomainsAsync(pending.TenantId, cancellationToken) : []));
        var validated = await ValidateWithKeyRefreshAsync(cache, provider, tokens.Value.IdToken, expectations, clock.GetUtcNow(), cancellationToken);
        if (!validated.IsSuccess) return Rejected(validated.Error);
        var token = validated.Value;

        var completed = await AddUserInfoAsync(provider, token, tokens.Value.AccessToken, cancellationToken);
        if (!completed.IsSuccess) return Rejected(completed.Error);
        token = completed.Value;
        if (OidcEmailVerification.Check(token, config.AllowUnverifiedEmail) is { } unverified) return Rejected(unverified);
        var identity = ToIdentity(token);
        if (AuthenticationFreshness.Check(pending.StepUp, identity.AuthenticatedAt, pending.CreatedAt, clock.GetUtcNow(), config.ClockSkew) is { } stale)
            return Rejected(new OidcFailure(stale.Kind == StepUpFailureKind.AuthTimeMissing ? OidcFailureKind.AuthTimeMissing : OidcFailureKind.AuthenticationTooOld,
                stale.Message));
        return identity;
    }

    /// <summary>
    /// The token's claims completed from the IdP's UserInfo endpoint when the ID token leaves out
    /// email or name (Core §5.3); the token as it is otherwise. Also used by the operator console's sign-in.
    /// </summary>
    public async Task<Result<ValidatedIdToken, OidcFailure>> AddUserInfoAsync(OidcProviderMetadata provider, ValidatedIdToken token,
        string? accessToken, CancellationToken cancellationToken)
    {
        if (!OidcUserInfoReader.NeedsUserInfo(token) || provider.UserInfoEndpoint is not { } userInfoEndpoint || accessToken is null) return token;
        var userInfo = await idp.GetAsync(userInfoEndpoint, OidcUserInfoReader.MaxResponseBytes, accessToken, cancellationToken);
        if (!userInfo.IsSuccess) return userInfo.Error;
        if (userInfo.Value.Status != 200)
            return new OidcFailure(OidcFailureKind.IdpHttpError, $"The IdP's UserInfo endpoint answered {userInfo.Value.Status}.");
        var claims = OidcUserInfoReader.Read(userInfo.Value.Body, token.Subject);
        if (!claims.IsSuccess) return claims.Error;
        return OidcUserInfoReader.Merge(token, claims.Value);
    }

    /// <summary>RFC 9207: the authorization response's <c>iss</c> names the IdP that answered (null when it is right or legitimately absent).</summary>
    public static OidcFailure? CheckIssParameter(IReadOnlyList<string> iss, OidcProviderMetadata provider)
    {
        if (iss.Count == 0)
            return provider.SendsIssInAuthorizationResponse
                ? OidcFailure.Mismatch(OidcFailureKind.CallbackIssuerMismatch, "The authorization response's 'iss'", provider.Issuer, null)
                : null;
        var actual = string.Join(',', iss);
        if (iss.Count == 1 && (actual == provider.Issuer
                               || provider.IsIssuerTemplate && OidcDiscoveryReader.IssuerMatchesTemplate(actual, provider.Issuer)))
            return null;
        return OidcFailure.Mismatch(OidcFailureKind.CallbackIssuerMismatch, "The authorization response's 'iss'", provider.Issuer, Printable(actual));
    }

    /// <summary>
    /// Redeems an authorization code at the IdP's token endpoint (with PKCE), authenticating as the
    /// provider's discovery document says. Also used by the operator console's own sign-in.
    /// </summary>
    public async Task<Result<OidcTokenResponse, OidcFailure>> ExchangeCodeAsync(
        OidcProviderMetadata provider, string clientId, string secret, string redirectUri, string code, string codeVerifier,
        CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "authorization_code"),
            new("code", code),
            new("redirect_uri", redirectUri),
            new("code_verifier", codeVerifier),
        };
        AuthenticationHeaderValue? authorization = null;
        if (provider.TokenEndpointAuthMethod == OidcClientAuthMethod.ClientSecretBasic)
        {
            // RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined and base64-encoded.
            var credentials = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret);
            authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }
        else
        {
            form.Add(new("client_id", clientId));
            form.Add(new("client_secret", secret));
        }
        var answer = await idp.PostFormAsync(provider.TokenEndpoint, form, authorization, OidcTokenResponseReader.MaxResponseBytes, cancellationToken);
        if (!answer.IsSuccess) return answer.Error;
        return OidcTokenResponseReader.Read(answer.Value.Status, answer.Value.Body);
    }

    /// <summary>Validates an ID token against the provider's keys, refetching them once (rate-limited) for an unknown key id.</summary>
    public static async Task<Result<ValidatedIdToken, OidcFailure>> ValidateWithKeyRefreshAsync(OidcProviderCache cache,
        OidcProviderMetadata provider, string idToken, IdTokenExpectations expectations, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var keys = await cache.GetKeysAsync(provider, unknownKid: null, cancellationToken);
        if (!keys.IsSuccess) return keys.Error;
        var validated = await IdTokenValidator.ValidateAsync(idToken, keys.Value, expectations, now);
        if (validated.IsSuccess || validated.Error.Kind != OidcFailureKind.UnknownSigningKey) return validated;
        // The IdP may have rotated its keys since the JWKS was cached (rate-limited refetch).
        var refreshed = await cache.GetKeysAsync(provider, unknownKid: validated.Error.Actual ?? "", cancellationToken);
        if (!refreshed.IsSuccess) return refreshed.Error;
        return await IdTokenValidator.ValidateAsync(idToken, refreshed.Value, expectations, now);
    }

    private async Task<IReadOnlyCollection<string>> TenantDomainsAsync(TenantId tenantId, CancellationToken cancellationToken) =>
        (await tenants.FindAsync(tenantId, cancellationToken))?.Domains ?? [];

    // Claims that only bind the token to this exchange; the SaaS app has no use for them.
    private static readonly HashSet<string> ProtocolClaims = ["nonce", "at_hash", "c_hash", "s_hash", "sid", "aud", "azp", "exp", "iat", "nbf", "jti", "uti", "rh"];

    private static VerifiedIdentity ToIdentity(ValidatedIdToken token)
    {
        var raw = new JsonObject();
        foreach (var (name, value) in token.Claims)
            if (!ProtocolClaims.Contains(name)) raw[name] = value?.DeepClone();
        if (token.GroupsOverage) raw["groupsOverage"] = true;
        DateTimeOffset? authTime = token.Claims["auth_time"] is JsonValue v && v.TryGetValue<long>(out var seconds) && seconds > 0
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
        return new VerifiedIdentity
        {
            Subject = token.Subject,
            Issuer = token.Issuer,
            Email = token.Email,
            EmailVerified = token.EmailVerified,
            GivenName = token.GivenName,
            FamilyName = token.FamilyName,
            Name = token.Name,
            Groups = token.Groups,
            RawAttributes = raw,
            AuthenticatedAt = authTime,
        };
    }

    private static string Printable(string text) => new(text.Take(100).Where(c => c is >= ' ' and <= '~').ToArray());
}
