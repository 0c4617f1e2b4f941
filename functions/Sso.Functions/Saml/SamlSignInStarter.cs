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
public static class SamlSignInStarter
{
    public const string AuthnRequestIdKey = "authnRequestId";

    public static async Task<IResult> StartAsync(HttpContext context, PendingSignIn pending, Connection connection,
        CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<SsoOptions>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var request = new AuthnRequest
        {
            Id = AuthnRequestWriter.NewId(),
            IssueInstant = now,
            Issuer = SamlServiceProviderUrls.EntityId(options, connection.Id),
            Destination = connection.ConfigString("idpSsoUrl")!,
            AssertionConsumerServiceUrl = SamlServiceProviderUrls.AcsUrl(options, connection.Id),
            // SAML has no max_age: a fresh authentication is the only way to meet one.
            ForceAuthn = pending.StepUp.IsRequested,
        };
        var idpState = pending.IdpState.DeepClone().AsObject();
        idpState[AuthnRequestIdKey] = request.Id;
        await services.GetRequiredService<PendingSignInStore>().CreateAsync(pending with { IdpState = idpState }, cancellationToken);

        var signingCertificate = connection.ConfigBool("signAuthnRequests")
            ? await services.GetRequiredService<SamlServiceProviderKeys>().GetOrCreateAsync(connection.Id, cancellationToken)
            : null;
        if (connection.ConfigString("idpSsoBinding") == SamlUris.HttpPostBinding)
            return OAuthResults.PostBindingPage(AuthnRequestWriter.WritePostForm(request, pending.Handle, signingCertificate), request.Destination);
        var url = AuthnRequestWriter.WriteRedirectUrl(request, pending.Handle, signingCertificate);
        return new NoStoreRedirect(url.OriginalString);
    }

    private sealed class NoStoreRedirect(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}
