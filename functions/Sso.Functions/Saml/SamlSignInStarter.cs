using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>
/// Starts the SAML leg: records the AuthnRequest ID in the pending sign-in (the ACS checks
/// InResponseTo against it) and sends the browser to the IdP with the pending sign-in's handle
/// as RelayState, over HTTP-Redirect (deflated, optionally signed) or, when the IdP's metadata
/// offers only that, HTTP-POST.
/// </summary>
public sealed class SamlSignInStarter(SsoOptions options, TimeProvider clock, ConnectionSignInStore pendingSignIns,
    SamlServiceProviderKeys keys) : ISignInStarter
{
    public const string AuthnRequestIdKey = "authnRequestId";

    public string ConnectionType => ConnectionTypes.Saml;

    public async Task<Result<IdpRequest, SignInStartFailure>> StartAsync(PendingSignIn pending, Connection connection,
        CancellationToken cancellationToken)
    {
        var request = new AuthnRequest
        {
            Id = AuthnRequestWriter.NewId(),
            IssueInstant = clock.GetUtcNow(),
            Issuer = SamlServiceProviderUrls.EntityId(options, connection.Id),
            Destination = connection.ConfigString("idpSsoUrl")!,
            AssertionConsumerServiceUrl = SamlServiceProviderUrls.AcsUrl(options, connection.Id),
            // SAML has no max_age: a fresh authentication is the only way to meet one.
            ForceAuthn = pending.StepUp.IsRequested,
        };
        var idpState = pending.IdpState.DeepClone().AsObject();
        idpState[AuthnRequestIdKey] = request.Id;
        // In the connection's partition, where the ACS commits the whole sign-in in one transaction.
        await pendingSignIns.CreatePendingAsync(pending with { IdpState = idpState }, cancellationToken);

        var signingCertificate = connection.ConfigBool("signAuthnRequests")
            ? await keys.GetOrCreateAsync(connection.Id, cancellationToken)
            : null;
        if (connection.ConfigString("idpSsoBinding") == SamlUris.HttpPostBinding)
            return new IdpRequest.PostForm(AuthnRequestWriter.WritePostForm(request, pending.Handle, signingCertificate), request.Destination);
        return new IdpRequest.Redirect(AuthnRequestWriter.WriteRedirectUrl(request, pending.Handle, signingCertificate).OriginalString);
    }
}
