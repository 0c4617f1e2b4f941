using Microsoft.IdentityModel.Tokens;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// The work of OIDC RP-Initiated Logout 1.0: the id_token_hint names the sign-in session to end;
/// its tokens are refused at once, and when it came through an IdP that offers Single Logout the
/// browser goes on to that IdP.
/// </summary>
public sealed partial class RpLogout(SsoOptions options, TokenSigningKeys signingKeys, ClientStore clients,
    AccessTokenStore accessTokens, SignInSessionStore sessions, ConnectionStore connections,
    IEnumerable<ISingleLogout> singleLogouts, TimeProvider clock, ILoggerFactory loggers)
{
    private readonly ILogger logger = loggers.CreateLogger("Sso.Functions.OAuth");

    public async Task<RpLogoutOutcome> LogoutAsync(IReadOnlyList<KeyValuePair<string, string>> parameters, CancellationToken cancellationToken)
    {
        var read = EndSessionRequestValidator.Read(parameters);
        if (!read.IsSuccess) return new RpLogoutOutcome.Refused(read.Error.Description);
        var request = read.Value;
        if (request.IdTokenHint is null)
            return new RpLogoutOutcome.Refused("Send id_token_hint (the id_token of the session to end): this service keeps no browser session of its own.");

        var keys = await signingKeys.GetAsync(cancellationToken);
        var hint = await EndSessionRequestValidator.ValidateHintAsync(request.IdTokenHint, options.Issuer,
            keys.Select(k => (SecurityKey)new RsaSecurityKey(k.Rsa.ExportParameters(false)) { KeyId = k.Kid }).ToList(), request.ClientId);
        if (!hint.IsSuccess)
        {
            LogRefused(logger, "id_token_hint_invalid");
            return new RpLogoutOutcome.Refused(hint.Error.Description);
        }

        // RP-Initiated Logout §3: the URI must be registered for the client the hint was issued to,
        // else nobody is sent anywhere.
        if (!ClientId.TryParse(hint.Value.ClientId, out var clientId)
            || await clients.FindAsync(clientId, cancellationToken) is not { } client)
            return new RpLogoutOutcome.Refused("The id_token_hint was issued to a client that is no longer registered.");
        if (request.PostLogoutRedirectUri is { } uri && !client.HasPostLogoutRedirectUri(uri))
        {
            LogRefused(logger, "post_logout_redirect_uri_unregistered");
            return new RpLogoutOutcome.Refused("post_logout_redirect_uri is not registered for this client (postLogoutRedirectUris); nothing was done.");
        }
        if (!TenantId.TryParse(hint.Value.TenantId, out var tenantId))
            return new RpLogoutOutcome.Refused("The id_token_hint names no tenant.");

        var now = clock.GetUtcNow();
        if (hint.Value.SessionId is { } sid) await accessTokens.RevokeSessionAsync(tenantId, sid, now, cancellationToken);
        else await accessTokens.RevokeSubjectAsync(tenantId, hint.Value.Subject, now, cancellationToken);   // an id_token from before sessions
        LogSignedOut(logger, tenantId.Value, client.Id.Value);

        if (hint.Value.SessionId is { } sessionId
            && await sessions.FindAsync(tenantId, sessionId, cancellationToken) is { } session
            && await connections.FindByIdAsync(session.ConnectionId, cancellationToken) is { } connection
            && connection.TenantId == tenantId
            && singleLogouts.FirstOrDefault(l => l.ConnectionType == connection.Type) is { } singleLogout
            && await singleLogout.StartAsync(connection, session, client.Id, request.PostLogoutRedirectUri, request.State, now,
                cancellationToken) is { } toIdp)
            return new RpLogoutOutcome.ToIdp(tenantId, toIdp);

        return new RpLogoutOutcome.SignedOut(tenantId, request.PostLogoutRedirectUri, request.State);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session ended by RP-initiated logout (tenant {TenantId}, client {ClientId})")]
    private static partial void LogSignedOut(ILogger logger, string tenantId, string clientId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Logout request refused: {Outcome}")]
    private static partial void LogRefused(ILogger logger, string outcome);
}

/// <summary>What <c>/oauth/logout</c> answers.</summary>
public abstract record RpLogoutOutcome
{
    private RpLogoutOutcome()
    {
    }

    /// <summary>Nothing was done; <paramref name="Message"/> says why.</summary>
    public sealed record Refused(string Message) : RpLogoutOutcome;

    /// <summary>The session's tokens are revoked; the browser goes on to the IdP's Single Logout.</summary>
    public sealed record ToIdp(TenantId TenantId, IdpRequest Request) : RpLogoutOutcome;

    /// <summary>The session's tokens are revoked; back to the registered URI with the state, or a page.</summary>
    public sealed record SignedOut(TenantId TenantId, string? PostLogoutRedirectUri, string? State) : RpLogoutOutcome;
}
