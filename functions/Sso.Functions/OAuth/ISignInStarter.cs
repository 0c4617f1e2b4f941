using Sso.Functions.Connections;

namespace Sso.Functions.OAuth;

/// <summary>
/// Starts the IdP leg of a sign-in for one connection type: stores the pending sign-in with what
/// that protocol's callback will check, and says where the browser goes. <c>Saml/</c> and
/// <c>Oidc/</c> implement it; <see cref="SignInStarters"/> picks the one for a connection.
/// </summary>
public interface ISignInStarter
{
    /// <summary>One of <see cref="ConnectionTypes"/>.</summary>
    string ConnectionType { get; }

    /// <summary>The step-up demand travels in <see cref="PendingSignIn.StepUp"/>.</summary>
    Task<Result<IdpRequest, SignInStartFailure>> StartAsync(PendingSignIn pending, Connection connection, CancellationToken cancellationToken);
}

/// <summary>Where the browser goes next on its way to the IdP: a redirect, or an auto-posting form (SAML HTTP-POST binding).</summary>
public abstract record IdpRequest
{
    private IdpRequest()
    {
    }

    public sealed record Redirect(string Url) : IdpRequest;

    /// <summary><paramref name="ThenTo"/>: where the chain that follows the post may end (see <see cref="OAuthResults.PostBindingPage"/>).</summary>
    public sealed record PostForm(string Html, string Destination, string? ThenTo = null) : IdpRequest;
}

/// <summary>A sign-in that could not start: the OAuth <paramref name="Error"/> for the client and a <see cref="SignInRefusals"/> reason.</summary>
public sealed record SignInStartFailure(string Error, string Reason);
