using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>
/// SP-initiated Single Logout, first half (Profiles §4.4.3.1): a signed LogoutRequest with the
/// NameID and SessionIndex of the session, to the IdP's SingleLogoutService. Its answer comes
/// back to <see cref="SamlIdpLogout"/>, which finishes at the post_logout_redirect_uri.
/// </summary>
public sealed class SamlSingleLogout(SsoOptions options, SignInSessionStore sessions, SamlServiceProviderKeys keys) : ISingleLogout
{
    public string ConnectionType => ConnectionTypes.Saml;

    public async Task<IdpRequest?> StartAsync(Connection connection, SamlSession session, ClientId clientId, string? postLogoutRedirectUri,
        string? state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (SamlConnectionSetup.SingleLogoutService(connection) is not { } idpSlo) return null;
        var logoutRequest = new LogoutRequest
        {
            Id = AuthnRequestWriter.NewId(),
            IssueInstant = now,
            Issuer = SamlServiceProviderUrls.EntityId(options, connection.Id),
            Destination = idpSlo.Location,
            NameId = session.NameId,
            NameIdFormat = session.NameIdFormat,
            SessionIndexes = session.SessionIndex is { } index ? [index] : [],
            NotOnOrAfter = now + PendingLogout.Lifetime,
        };
        var handle = PendingSignIn.NewHandle(connection.Id);
        await sessions.CreateLogoutAsync(connection.TenantId, new PendingLogout
        {
            Handle = handle,
            ConnectionId = connection.Id,
            LogoutRequestId = logoutRequest.Id,
            ClientId = clientId,
            PostLogoutRedirectUri = postLogoutRedirectUri,
            State = state,
            ExpiresAt = now + PendingLogout.Lifetime,
        }, cancellationToken);
        var certificate = await keys.GetOrCreateAsync(connection.Id, cancellationToken);
        return idpSlo.Binding == SamlUris.HttpPostBinding
            ? new IdpRequest.PostForm(SamlLogoutWriter.WritePostForm(logoutRequest, handle, certificate), logoutRequest.Destination,
                postLogoutRedirectUri)
            : new IdpRequest.Redirect(SamlLogoutWriter.WriteRedirectUrl(logoutRequest, handle, certificate).OriginalString);
    }
}
