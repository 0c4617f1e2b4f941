using Sso.Functions.Connections;

namespace Sso.Functions.OAuth;

/// <summary>
/// The sign-in starters by connection type, and the one way authorize and the setup portal's
/// Test sign-in start: to the IdP, or back to the client with an OAuth error.
/// </summary>
public sealed class SignInStarters(IEnumerable<ISignInStarter> starters, AuthorizationCodeIssuer codes)
{
    // ToDictionary throws on a second starter for a type: two would make the choice arbitrary.
    private readonly Dictionary<string, ISignInStarter> byType = starters.ToDictionary(s => s.ConnectionType, StringComparer.Ordinal);

    public IReadOnlyCollection<string> ConnectionTypes => byType.Keys;

    public ISignInStarter? For(string connectionType) => byType.GetValueOrDefault(connectionType);

    /// <summary>Where the browser goes next: to the IdP (a redirect or an auto-posting form), or the refusal for the client.</summary>
    public async Task<Result<IdpRequest, SignInCompletion>> StartAsync(PendingSignIn pending, Connection connection,
        CancellationToken cancellationToken)
    {
        if (For(connection.Type) is not { } starter)
            return codes.ErrorRedirect(pending, Protocols.OAuth.OAuthErrorCodes.ServerError, "The connection has an unknown type.");
        var started = await starter.StartAsync(pending, connection, cancellationToken);
        return started.IsSuccess
            ? started.Value
            : await codes.FailAsync(pending, started.Error.Error, started.Error.Reason, cancellationToken);
    }

    /// <summary>The one way a start becomes HTTP.</summary>
    public static IResult ToResult(HttpContext context, Result<IdpRequest, SignInCompletion> started) =>
        started.IsSuccess ? OAuthResults.ToIdp(started.Value) : SignInCompletion.ToResult(context, started.Error);
}
