using System.Security.Cryptography;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Protocols.OAuth;
using Sso.Protocols.Oidc;

namespace Sso.Functions.Oidc;

/// <summary>
/// Starts the OIDC leg of a sign-in: stores the pending sign-in with a fresh nonce and PKCE
/// verifier, and redirects to the IdP with its handle as <c>state</c> (Core §3.1.2.1, RFC 7636).
/// </summary>
public static partial class OidcSignInStarter
{
    public const string NonceKey = "nonce";
    public const string CodeVerifierKey = "codeVerifier";
    public const string IssuerKey = "issuer";

    public static async Task<IResult> StartAsync(HttpContext context, PendingSignIn pending, Connection connection,
        CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var codes = services.GetRequiredService<AuthorizationCodeIssuer>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Oidc");
        if (OidcConnectionConfig.From(connection) is not { } config)
            return await codes.FailAsync(context, pending, OAuthErrorCodes.ServerError, SignInRefusals.ConnectionUnavailable, cancellationToken);

        var metadata = await services.GetRequiredService<OidcProviderCache>().GetMetadataAsync(config.Issuer, cancellationToken);
        if (!metadata.IsSuccess)
        {
            LogDiscoveryFailed(logger, connection.TenantId.Value, connection.Id.Value, metadata.Error.Kind);
            return await codes.FailAsync(context, pending, OAuthErrorCodes.TemporarilyUnavailable, OidcRefusals.IdpUnavailable, cancellationToken);
        }

        var nonce = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        // RFC 7636 §4.1: 32 random octets, base64url → 43 characters of the unreserved set.
        var codeVerifier = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var idpState = pending.IdpState.DeepClone().AsObject();
        idpState[NonceKey] = nonce;
        idpState[CodeVerifierKey] = codeVerifier;
        idpState[IssuerKey] = metadata.Value.Issuer;
        var stored = pending with { IdpState = idpState };
        await services.GetRequiredService<PendingSignInStore>().CreateAsync(stored, cancellationToken);

        var request = new OidcAuthorizationRequest(metadata.Value.AuthorizationEndpoint, config.ClientId,
            services.GetRequiredService<SsoOptions>().Url(OidcCallbackEndpoints.Route), config.Scopes, stored.Handle, nonce, codeVerifier,
            ForceLogin: pending.StepUp.ForceLogin, MaxAgeSeconds: pending.StepUp.MaxAgeSeconds);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Redirect(request.ToUri().AbsoluteUri);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "OIDC sign-in not started: discovery failed with {FailureKind} (tenant {TenantId}, connection {ConnectionId})")]
    private static partial void LogDiscoveryFailed(ILogger logger, string tenantId, string connectionId, OidcFailureKind failureKind);
}
