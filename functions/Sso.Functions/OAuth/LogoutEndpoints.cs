using Microsoft.IdentityModel.Tokens;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// OIDC RP-Initiated Logout 1.0 (<c>end_session_endpoint</c>). This service keeps no browser
/// session, so the id_token_hint names the sign-in session to end: its tokens are refused at
/// once, and when it came through a SAML IdP that offers Single Logout the browser is sent on
/// to the IdP with a signed LogoutRequest; the IdP's answer comes back to the SLO endpoint,
/// which finishes at the post_logout_redirect_uri.
/// </summary>
public static partial class LogoutEndpoints
{
    public const string Path = "/oauth/logout";
    public const int MaxFormBytes = 32 * 1024;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        // RP-Initiated Logout §2: the OP supports GET and POST at the end_session_endpoint.
        new("OAuthLogout", Path, ["GET", "POST"], LogoutAsync),
    ];

    private static async Task<IResult> LogoutAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var cancellationToken = context.RequestAborted;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.OAuth");

        List<KeyValuePair<string, string>> parameters;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            if (!context.Request.HasFormContentType || context.Request.ContentLength > MaxFormBytes)
                return Refused("Send the logout request as application/x-www-form-urlencoded.");
            try
            {
                var form = await context.Request.ReadFormAsync(cancellationToken);
                parameters = form.SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? ""))).ToList();
            }
            catch (InvalidDataException)
            {
                return Refused("The form body could not be read.");
            }
        }
        else
        {
            parameters = context.Request.Query.SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? ""))).ToList();
        }

        var read = EndSessionRequestValidator.Read(parameters);
        if (!read.IsSuccess) return Refused(read.Error.Description);
        var request = read.Value;
        if (request.IdTokenHint is null)
            return Refused("Send id_token_hint (the id_token of the session to end): this service keeps no browser session of its own.");

        var options = services.GetRequiredService<SsoOptions>();
        var keys = await services.GetRequiredService<TokenSigningKeys>().GetAsync(cancellationToken);
        var hint = await EndSessionRequestValidator.ValidateHintAsync(request.IdTokenHint, options.Issuer,
            keys.Select(k => (SecurityKey)new RsaSecurityKey(k.Rsa.ExportParameters(false)) { KeyId = k.Kid }).ToList(), request.ClientId);
        if (!hint.IsSuccess)
        {
            LogRefused(logger, "id_token_hint_invalid");
            return Refused(hint.Error.Description);
        }

        // RP-Initiated Logout §3: the URI must be registered for the client the hint was issued to,
        // else nobody is sent anywhere.
        if (!ClientId.TryParse(hint.Value.ClientId, out var clientId)
            || await services.GetRequiredService<ClientStore>().FindAsync(clientId, cancellationToken) is not { } client)
            return Refused("The id_token_hint was issued to a client that is no longer registered.");
        if (request.PostLogoutRedirectUri is { } uri && !client.HasPostLogoutRedirectUri(uri))
        {
            LogRefused(logger, "post_logout_redirect_uri_unregistered");
            return Refused("post_logout_redirect_uri is not registered for this client (postLogoutRedirectUris); nothing was done.");
        }
        if (!TenantId.TryParse(hint.Value.TenantId, out var tenantId))
            return Refused("The id_token_hint names no tenant.");
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;

        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var tokens = services.GetRequiredService<AccessTokenStore>();
        if (hint.Value.SessionId is { } sid) await tokens.RevokeSessionAsync(tenantId, sid, now, cancellationToken);
        else await tokens.RevokeSubjectAsync(tenantId, hint.Value.Subject, now, cancellationToken);   // an id_token from before sessions
        LogSignedOut(logger, tenantId.Value, client.Id.Value);

        if (hint.Value.SessionId is { } sessionId
            && await services.GetRequiredService<SignInSessionStore>().FindAsync(tenantId, sessionId, cancellationToken) is { } session
            && await services.GetRequiredService<ConnectionStore>().FindByIdAsync(session.ConnectionId, cancellationToken) is { } connection
            && connection.TenantId == tenantId
            && services.GetServices<ISingleLogout>().FirstOrDefault(l => l.ConnectionType == connection.Type) is { } singleLogout
            && await singleLogout.StartAsync(connection, session, client.Id, request.PostLogoutRedirectUri, request.State, now,
                cancellationToken) is { } toIdp)
            return OAuthResults.ToIdp(toIdp);

        return Finish(request.PostLogoutRedirectUri, request.State);
    }

    /// <summary>The end of every logout: to the registered post_logout_redirect_uri with the state, or a page.</summary>
    public static IResult Finish(string? postLogoutRedirectUri, string? state) =>
        postLogoutRedirectUri is null
            ? OAuthResults.Page(200, "Signed out", "You have been signed out. You can close this window.")
            : OAuthResults.Redirect(postLogoutRedirectUri, ResponseModes.Query, [new("state", state)]);

    private static IResult Refused(string message) => OAuthResults.Page(400, "Sign-out failed", message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session ended by RP-initiated logout (tenant {TenantId}, client {ClientId})")]
    private static partial void LogSignedOut(ILogger logger, string tenantId, string clientId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Logout request refused: {Outcome}")]
    private static partial void LogRefused(ILogger logger, string outcome);
}
