using Sso.Functions.Connections;

namespace Sso.Functions.OAuth;

/// <summary>
/// The sign-in starters by connection type, and the one way authorize and the setup portal's
/// Test sign-in write a start: to the IdP, or back to the client with an OAuth error.
/// </summary>
public sealed class SignInStarters(IEnumerable<ISignInStarter> starters, AuthorizationCodeIssuer codes)
{
    // ToDictionary throws on a second starter for a type: two would make the choice arbitrary.
    private readonly Dictionary<string, ISignInStarter> byType = starters.ToDictionary(s => s.ConnectionType, StringComparer.Ordinal);

    public IReadOnlyCollection<string> ConnectionTypes => byType.Keys;

    public ISignInStarter? For(string connectionType) => byType.GetValueOrDefault(connectionType);

    public async Task<IResult> StartAsync(HttpContext context, PendingSignIn pending, Connection connection, CancellationToken cancellationToken)
    {
        if (For(connection.Type) is not { } starter)
            return SignInCompletion.ToResult(context,
                codes.ErrorRedirect(pending, Protocols.OAuth.OAuthErrorCodes.ServerError, "The connection has an unknown type."));
        var started = await starter.StartAsync(pending, connection, cancellationToken);
        return started.IsSuccess
            ? OAuthResults.ToIdp(started.Value)
            : SignInCompletion.ToResult(context, await codes.FailAsync(pending, started.Error.Error, started.Error.Reason, cancellationToken));
    }
}
