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
public sealed partial class OidcSignInStarter(OidcProviderCache providers, PendingSignInStore pendingSignIns, SsoOptions options,
    ILoggerFactory loggers) : ISignInStarter
{
    public const string NonceKey = "nonce";
    public const string CodeVerifierKey = "codeVerifier";
    public const string IssuerKey = "issuer";

    private readonly ILogger logger = loggers.CreateLogger("Sso.Functions.Oidc");

    public string ConnectionType => ConnectionTypes.Oidc;

    public async Task<Result<IdpRequest, SignInStartFailure>> StartAsync(PendingSignIn pending, Connection connection,
        CancellationToken cancellationToken)
    {
        if (OidcConnectionConfig.From(connection) is not { } config)
            return new SignInStartFailure(OAuthErrorCodes.ServerError, SignInRefusals.ConnectionUnavailable);

        var metadata = await providers.GetMetadataAsync(config.Issuer, cancellationToken);
        if (!metadata.IsSuccess)
        {
            LogDiscoveryFailed(logger, connection.TenantId.Value, connection.Id.Value, metadata.Error.Kind);
            return new SignInStartFailure(OAuthErrorCodes.TemporarilyUnavailable, OidcRefusals.IdpUnavailable);
        }

        var nonce = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        // RFC 7636 §4.1: 32 random octets, base64url → 43 characters of the unreserved set.
        var codeVerifier = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var idpState = pending.IdpState.DeepClone().AsObject();
        idpState[NonceKey] = nonce;
        idpState[CodeVerifierKey] = codeVerifier;
        idpState[IssuerKey] = metadata.Value.Issuer;
        var stored = pending with { IdpState = idpState };
        await pendingSignIns.CreateAsync(stored, cancellationToken);

        var request = new OidcAuthorizationRequest(metadata.Value.AuthorizationEndpoint, config.ClientId,
            options.Url(OidcCallbackEndpoints.Route), config.Scopes, stored.Handle, nonce, codeVerifier,
            ForceLogin: pending.StepUp.ForceLogin, MaxAgeSeconds: pending.StepUp.MaxAgeSeconds);
        return new IdpRequest.Redirect(request.ToUri().AbsoluteUri);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "OIDC sign-in not started: discovery failed with {FailureKind} (tenant {TenantId}, connection {ConnectionId})")]
    private static partial void LogDiscoveryFailed(ILogger logger, string tenantId, string connectionId, OidcFailureKind failureKind);
}
