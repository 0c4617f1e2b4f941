using Sso.Functions.Connections;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// Ends a sign-in session at its IdP as well, for a connection type whose protocol offers it
/// (SAML Single Logout); <c>Saml/</c> implements it. Null: the IdP has no logout endpoint, so
/// the logout ends here.
/// </summary>
public interface ISingleLogout
{
    string ConnectionType { get; }

    Task<IdpRequest?> StartAsync(Connection connection, SamlSession session, ClientId clientId, string? postLogoutRedirectUri,
        string? state, DateTimeOffset now, CancellationToken cancellationToken);
}
