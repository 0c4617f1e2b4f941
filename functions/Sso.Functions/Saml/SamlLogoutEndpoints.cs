using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Protocols;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>
/// Each SAML connection's Single Logout Service (profiles §4.4), HTTP-Redirect (GET) and
/// HTTP-POST. It takes the IdP's LogoutRequest — only signed by the connection's IdP
/// certificate, for this SLO URL and not expired — revokes the tokens of the sessions it names
/// and answers a signed LogoutResponse; and it takes the IdP's LogoutResponse to the
/// LogoutRequest that <see cref="LogoutEndpoints"/> sent, finishing at the client's
/// post_logout_redirect_uri. A refused message changes nothing.
/// </summary>
public static partial class SamlLogoutEndpoints
{
    public const int MaxFormBytes = SamlResponseReader.MaxDecodedBytes * 4 / 3 + 8 * 1024;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("SamlSlo", "/saml/slo/{connectionId}", ["GET", "POST"], SloAsync),
    ];

    private static async Task<IResult> SloAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var cancellationToken = context.RequestAborted;
        if (!ConnectionId.TryParse(context.RouteString("connectionId"), out var connectionId)
            || await services.GetRequiredService<ConnectionStore>().FindByIdAsync(connectionId, cancellationToken) is not
                { Type: ConnectionTypes.Saml } connection)
            return OAuthResults.Page(404, "Unknown SAML connection", "There is no SAML connection with this id. Check the SLO URL configured at the IdP.");
        context.Items[RequestPipeline.TenantItem] = connection.TenantId.Value;

        var options = services.GetRequiredService<SsoOptions>();
        var parameters = new SamlLogoutParameters
        {
            IdpCertificates = SamlConnectionSetup.IdpCertificates(connection),
            IdpEntityId = connection.ConfigString("idpEntityId")!,
            SloUrl = SamlServiceProviderUrls.SloUrl(options, connection.Id),
            AllowSha1 = connection.ConfigBool("allowSha1"),
            ClockSkew = TimeSpan.FromSeconds(connection.Config["clockSkewSeconds"] is JsonValue skew && skew.TryGetValue<int>(out var seconds)
                ? seconds
                : SamlConnectionSetup.DefaultClockSkewSeconds),
            Now = services.GetRequiredService<TimeProvider>().GetUtcNow(),
        };

        if (HttpMethods.IsGet(context.Request.Method))
        {
            var rawQuery = context.Request.QueryString.Value?.TrimStart('?') ?? "";
            if (context.Request.Query.ContainsKey(SamlRedirectBinding.RequestParameter))
                return await LogoutRequestedAsync(context, connection, SamlUris.HttpRedirectBinding,
                    SamlLogoutValidator.ValidateRedirectRequest(rawQuery, parameters),
                    SamlLogoutValidator.RedirectRelayState(rawQuery, SamlRedirectBinding.RequestParameter), parameters, cancellationToken);
            if (context.Request.Query.ContainsKey(SamlRedirectBinding.ResponseParameter))
                return await LogoutAnsweredAsync(context, connection,
                    SamlLogoutValidator.RedirectRelayState(rawQuery, SamlRedirectBinding.ResponseParameter),
                    expected => SamlLogoutValidator.ValidateRedirectResponse(rawQuery, expected, parameters), parameters, cancellationToken);
            return Refused("The IdP must send a SAMLRequest or SAMLResponse (SAML Single Logout).");
        }

        if (!context.Request.HasFormContentType || context.Request.ContentLength > MaxFormBytes)
            return Refused("The IdP must POST the SAMLRequest or SAMLResponse as a form (HTTP-POST binding).");
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException)
        {
            return Refused("The logout form is too large or malformed.");
        }
        if (form["SAMLRequest"].Count > 1 || form["SAMLResponse"].Count > 1 || form["RelayState"].Count > 1)
            return Refused("The logout form repeats a field.");
        var relayState = form["RelayState"].ToString() is { Length: > 0 } relay ? relay : null;
        if (form["SAMLRequest"].ToString() is { Length: > 0 } samlRequest)
            return await LogoutRequestedAsync(context, connection, SamlUris.HttpPostBinding,
                SamlLogoutValidator.ValidatePostRequest(samlRequest, parameters), relayState, parameters, cancellationToken);
        if (form["SAMLResponse"].ToString() is { Length: > 0 } samlResponse)
            return await LogoutAnsweredAsync(context, connection, relayState,
                expected => SamlLogoutValidator.ValidatePostResponse(samlResponse, expected, parameters), parameters, cancellationToken);
        return Refused("The IdP must send a SAMLRequest or SAMLResponse (SAML Single Logout).");
    }

    /// <summary>IdP-initiated: end the sessions the request names, then answer in the binding it came in.</summary>
    private static async Task<IResult> LogoutRequestedAsync(HttpContext context, Connection connection, string binding,
        Result<LogoutRequest, SamlFailure> validated, string? relayState, SamlLogoutParameters parameters, CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Saml");
        if (!validated.IsSuccess)
        {
            LogRejected(logger, connection.Id.Value, validated.Error.Kind.ToString());
            return Refused($"The LogoutRequest was refused and nothing was signed out: {validated.Error.Message}");
        }
        var request = validated.Value;
        // Each LogoutRequest acts once, like an assertion (a separate key space in the same cache).
        if (!await services.GetRequiredService<AssertionReplayStore>().TryRecordAsync(connection.Id, "logout:" + request.Id,
                request.ReplayCacheUntil ?? parameters.Now + parameters.MaxAge, cancellationToken))
        {
            LogRejected(logger, connection.Id.Value, nameof(SamlFailureKind.Replayed));
            return Refused($"The LogoutRequest '{request.Id}' was already processed; nothing was signed out again.");
        }

        // Core §3.7.3.2: with SessionIndex, only those sessions; without, every session of the principal.
        var sessions = await services.GetRequiredService<SignInSessionStore>()
            .FindByNameIdAsync(connection.TenantId, connection.Id, request.NameId, parameters.Now, cancellationToken);
        var ended = request.SessionIndexes.Count == 0
            ? sessions
            : sessions.Where(s => s.SessionIndex is { } index && request.SessionIndexes.Contains(index, StringComparer.Ordinal)).ToList();
        var tokens = services.GetRequiredService<AccessTokenStore>();
        foreach (var session in ended)
            await tokens.RevokeSessionAsync(connection.TenantId, session.SessionId, parameters.Now, cancellationToken);
        if (request.SessionIndexes.Count == 0)
            foreach (var subject in ended.Select(s => s.Subject).Distinct(StringComparer.Ordinal))
                await tokens.RevokeSubjectAsync(connection.TenantId, subject, parameters.Now, cancellationToken);
        LogIdpLogout(logger, connection.Id.Value, ended.Count);

        var options = services.GetRequiredService<SsoOptions>();
        // Bindings: answer in the binding the request came in when the IdP offers it there.
        if ((SamlConnectionSetup.SingleLogoutService(connection, binding) ?? SamlConnectionSetup.SingleLogoutService(connection)) is not { } idpSlo)
            return OAuthResults.Page(200, "Signed out",
                "You have been signed out. The IdP's metadata lists no SingleLogoutService to return to.");
        var response = new LogoutResponse
        {
            Id = AuthnRequestWriter.NewId(),
            IssueInstant = parameters.Now,
            Issuer = SamlServiceProviderUrls.EntityId(options, connection.Id),
            Destination = idpSlo.ResponseLocation ?? idpSlo.Location,
            InResponseTo = request.Id,
        };
        var certificate = await services.GetRequiredService<SamlServiceProviderKeys>().GetOrCreateAsync(connection.Id, cancellationToken);
        // RelayState comes back as it was sent (bindings §3.4.3), if it fits the limit.
        var relay = relayState is not null && System.Text.Encoding.UTF8.GetByteCount(relayState) <= AuthnRequestWriter.MaxRelayStateBytes
            ? relayState
            : null;
        return idpSlo.Binding == SamlUris.HttpPostBinding
            ? OAuthResults.PostBindingPage(SamlLogoutWriter.WritePostForm(response, relay, certificate), response.Destination)
            : OAuthResults.NoStoreRedirect(SamlLogoutWriter.WriteRedirectUrl(response, relay, certificate).OriginalString);
    }

    /// <summary>SP-initiated, second half: the IdP's answer to our LogoutRequest, then back to the client.</summary>
    private static async Task<IResult> LogoutAnsweredAsync(HttpContext context, Connection connection, string? relayState,
        Func<string, Result<LogoutResponse, SamlFailure>> validate, SamlLogoutParameters parameters, CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Saml");
        var store = services.GetRequiredService<SignInSessionStore>();
        if (!PendingSignIn.TryReadConnection(relayState, out var relayConnection) || relayConnection != connection.Id
            || await store.FindLogoutAsync(connection.TenantId, relayState!, parameters.Now, cancellationToken) is not { } pending
            || pending.ConnectionId != connection.Id)
            return Refused("This sign-out is unknown, expired or already completed. Your session in the application was already ended.");

        var validated = validate(pending.LogoutRequestId);
        if (!validated.IsSuccess)
        {
            LogRejected(logger, connection.Id.Value, validated.Error.Kind.ToString());
            return Refused($"The IdP's LogoutResponse was refused: {validated.Error.Message} Your session in the application was already ended.");
        }
        if (!await store.RemoveLogoutAsync(connection.TenantId, pending, cancellationToken))
            return Refused("This sign-out was already completed.");
        // Profiles §4.4.4.2: a non-success status is a partial logout at the IdP; ours is done either way.
        LogIdpAnswered(logger, connection.Id.Value, validated.Value.IsSuccess ? "success" : "partial");
        return LogoutEndpoints.Finish(pending.PostLogoutRedirectUri, pending.State);
    }

    private static IResult Refused(string message) => OAuthResults.Page(400, "Sign-out failed", message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SAML logout message rejected: {FailureKind} (connection {ConnectionId})")]
    private static partial void LogRejected(ILogger logger, string connectionId, string failureKind);

    [LoggerMessage(Level = LogLevel.Information, Message = "IdP-initiated logout ended {Count} session(s) (connection {ConnectionId})")]
    private static partial void LogIdpLogout(ILogger logger, string connectionId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "IdP answered our LogoutRequest: {Outcome} (connection {ConnectionId})")]
    private static partial void LogIdpAnswered(ILogger logger, string connectionId, string outcome);
}
