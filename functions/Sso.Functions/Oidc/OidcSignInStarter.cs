using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Protocols.OAuth;

namespace Sso.Functions.Oidc;

/// <summary>
/// Starts the OIDC leg of a sign-in. Placeholder: the OIDC connections feature replaces this file.
/// </summary>
public static class OidcSignInStarter
{
    /// <summary>
    /// <paramref name="pending"/> is not stored yet: add what the callback needs to
    /// <see cref="PendingSignIn.IdpState"/>, store it with <see cref="PendingSignInStore.CreateAsync"/>,
    /// and redirect to the IdP with <see cref="PendingSignIn.Handle"/> as <c>state</c>.
    /// </summary>
    public static Task<IResult> StartAsync(HttpContext context, PendingSignIn pending, Connection connection,
        CancellationToken cancellationToken)
    {
        _ = connection;
        _ = cancellationToken;
        var issuer = context.RequestServices.GetRequiredService<AuthorizationCodeIssuer>();
        return Task.FromResult(issuer.ErrorRedirect(pending, OAuthErrorCodes.TemporarilyUnavailable,
            "OIDC connections are not available in this build."));
    }
}
