using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Protocols;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>What the IdP sent to a connection's SLO URL, by binding.</summary>
public abstract record SamlLogoutMessage
{
    /// <summary>HTTP-Redirect: the raw query (its signature covers the exact bytes) and which message it carries.</summary>
    public sealed record Redirect(string RawQuery, bool HasRequest, bool HasResponse) : SamlLogoutMessage;

    /// <summary>HTTP-POST: the form's fields as sent (empty when absent); RelayState null when empty or absent.</summary>
    public sealed record Post(string? SamlRequest, string? SamlResponse, string? RelayState) : SamlLogoutMessage;
}

/// <summary>How the SLO URL answers: a page, a LogoutResponse on its way to the IdP, or back to the client.</summary>
public abstract record SamlLogoutOutcome
{
    public sealed record Page(int Status, string Title, string Message) : SamlLogoutOutcome;

    public sealed record ToIdp(IdpRequest Request) : SamlLogoutOutcome;

    /// <summary>Our LogoutRequest was answered: on to the client's post_logout_redirect_uri, or the signed-out page.</summary>
    public sealed record Finished(string? PostLogoutRedirectUri, string? State) : SamlLogoutOutcome;

    public static Page Refused(string message) => new(400, "Sign-out failed", message);
}

/// <summary>
/// A SAML connection's Single Logout Service (profiles §4.4) for the IdP's messages. It takes the
/// IdP's LogoutRequest — only signed by the connection's IdP certificate, for this SLO URL and not
/// expired — revokes the tokens of the sessions it names and answers a signed LogoutResponse; and
/// it takes the IdP's LogoutResponse to the LogoutRequest that <see cref="SamlSingleLogout"/> sent,
/// finishing at the client's post_logout_redirect_uri. A refused message changes nothing.
/// </summary>
public sealed partial class SamlIdpLogout(
    AssertionReplayStore replays,
    SignInSessionStore sessions,
    AccessTokenStore tokens,
    SamlServiceProviderKeys spKeys,
    SsoOptions options,
    TimeProvider clock,
    ILoggerFactory loggers)
{
    private readonly ILogger logger = loggers.CreateLogger("Sso.Functions.Saml");

    private const string NoMessage = "The IdP must send a SAMLRequest or SAMLResponse (SAML Single Logout).";

    /// <param name="connection">A SAML connection, found by the SLO URL's id.</param>
    public async Task<SamlLogoutOutcome> ReceiveAsync(Connection connection, SamlLogoutMessage message, CancellationToken cancellationToken)
    {
        var parameters = new SamlLogoutParameters
        {
            IdpCertificates = SamlConnectionSetup.IdpCertificates(connection),
            IdpEntityId = connection.ConfigString("idpEntityId")!,
            SloUrl = SamlServiceProviderUrls.SloUrl(options, connection.Id),
            AllowSha1 = connection.ConfigBool("allowSha1"),
            ClockSkew = TimeSpan.FromSeconds(connection.Config["clockSkewSeconds"] is JsonValue skew && skew.TryGetValue<int>(out var seconds)
                ? seconds
                : SamlConnectionSetup.DefaultClockSkewSeconds),
            Now = clock.GetUtcNow(),
        };

        switch (message)
        {
            case SamlLogoutMessage.Redirect { RawQuery: var rawQuery } redirect:
                if (redirect.HasRequest)
                    return await LogoutRequestedAsync(connection, SamlUris.HttpRedirectBinding,
                        SamlLogoutValidator.ValidateRedirectRequest(rawQuery, parameters),
                        SamlLogoutValidator.RedirectRelayState(rawQuery, SamlRedirectBinding.RequestParameter), parameters, cancellationToken);
                if (redirect.HasResponse)
                    return await LogoutAnsweredAsync(connection,
                        SamlLogoutValidator.RedirectRelayState(rawQuery, SamlRedirectBinding.ResponseParameter),
                        expected => SamlLogoutValidator.ValidateRedirectResponse(rawQuery, expected, parameters), parameters, cancellationToken);
                return SamlLogoutOutcome.Refused(NoMessage);
            case SamlLogoutMessage.Post post:
                if (post.SamlRequest is { Length: > 0 } samlRequest)
                    return await LogoutRequestedAsync(connection, SamlUris.HttpPostBinding,
                        SamlLogoutValidator.ValidatePostRequest(samlRequest, parameters), post.RelayState, parameters, cancellationToken);
                if (post.SamlResponse is { Length: > 0 } samlResponse)
                    return await LogoutAnsweredAsync(connection, post.RelayState,
                        expected => SamlLogoutValidator.ValidatePostResponse(samlResponse, expected, parameters), parameters, cancellationToken);
                return SamlLogoutOutcome.Refused(NoMessage);
            default:
                throw new InvalidOperationException("Unknown SAML logout binding.");
        }
    }

    /// <summary>IdP-initiated: end the sessions the request names, then answer in the binding it came in.</summary>
    private async Task<SamlLogoutOutcome> LogoutRequestedAsync(Connection connection, string binding,
        Result<LogoutRequest, SamlFailure> validated, string? relayState, SamlLogoutParameters parameters, CancellationToken cancellationToken)
    {
        if (!validated.IsSuccess)
        {
            LogRejected(logger, connection.Id.Value, validated.Error.Kind.ToString());
            return SamlLogoutOutcome.Refused($"The LogoutRequest was refused and nothing was signed out: {validated.Error.Message}");
        }
        var request = validated.Value;
        // Each LogoutRequest acts once, like an assertion (a separate key space in the same cache).
        if (!await replays.TryRecordAsync(connection.Id, "logout:" + request.Id,
                request.ReplayCacheUntil ?? parameters.Now + parameters.MaxAge, cancellationToken))
        {
            LogRejected(logger, connection.Id.Value, nameof(SamlFailureKind.Replayed));
            return SamlLogoutOutcome.Refused($"The LogoutRequest '{request.Id}' was already processed; nothing was signed out again.");
        }

        // Core §3.7.3.2: with SessionIndex, only those sessions; without, every session of the principal.
        var found = await sessions.FindByNameIdAsync(connection.TenantId, connection.Id, request.NameId, parameters.Now, cancellationToken);
        var ended = request.SessionIndexes.Count == 0
            ? found
            : found.Where(s => s.SessionIndex is { } index && request.SessionIndexes.Contains(index, StringComparer.Ordinal)).ToList();
        foreach (var session in ended)
            await tokens.RevokeSessionAsync(connection.TenantId, session.SessionId, parameters.Now, cancellationToken);
        if (request.SessionIndexes.Count == 0)
            foreach (var subject in ended.Select(s => s.Subject).Distinct(StringComparer.Ordinal))
                await tokens.RevokeSubjectAsync(connection.TenantId, subject, parameters.Now, cancellationToken);
        LogIdpLogout(logger, connection.Id.Value, ended.Count);

        // Bindings: answer in the binding the request came in when the IdP offers it there.
        if ((SamlConnectionSetup.SingleLogoutService(connection, binding) ?? SamlConnectionSetup.SingleLogoutService(connection)) is not { } idpSlo)
            return new SamlLogoutOutcome.Page(200, "Signed out",
                "You have been signed out. The IdP's metadata lists no SingleLogoutService to return to.");
        var response = new LogoutResponse
        {
            Id = AuthnRequestWriter.NewId(),
            IssueInstant = parameters.Now,
            Issuer = SamlServiceProviderUrls.EntityId(options, connection.Id),
            Destination = idpSlo.ResponseLocation ?? idpSlo.Location,
            InResponseTo = request.Id,
        };
        var certificate = await spKeys.GetOrCreateAsync(connection.Id, cancellationToken);
        // RelayState comes back as it was sent (bindings §3.4.3), if it fits the limit.
        var relay = relayState is not null && System.Text.Encoding.UTF8.GetByteCount(relayState) <= AuthnRequestWriter.MaxRelayStateBytes
            ? relayState
            : null;
        return new SamlLogoutOutcome.ToIdp(idpSlo.Binding == SamlUris.HttpPostBinding
            ? new IdpRequest.PostForm(SamlLogoutWriter.WritePostForm(response, relay, certificate), response.Destination)
            : new IdpRequest.Redirect(SamlLogoutWriter.WriteRedirectUrl(response, relay, certificate).OriginalString));
    }

    /// <summary>SP-initiated, second half: the IdP's answer to our LogoutRequest, then back to the client.</summary>
    private async Task<SamlLogoutOutcome> LogoutAnsweredAsync(Connection connection, string? relayState,
        Func<string, Result<LogoutResponse, SamlFailure>> validate, SamlLogoutParameters parameters, CancellationToken cancellationToken)
    {
        if (!PendingSignIn.TryReadConnection(relayState, out var relayConnection) || relayConnection != connection.Id
            || await sessions.FindLogoutAsync(connection.TenantId, relayState!, parameters.Now, cancellationToken) is not { } pending
            || pending.ConnectionId != connection.Id)
            return SamlLogoutOutcome.Refused("This sign-out is unknown, expired or already completed. Your session in the application was already ended.");

        var validated = validate(pending.LogoutRequestId);
        if (!validated.IsSuccess)
        {
            LogRejected(logger, connection.Id.Value, validated.Error.Kind.ToString());
            return SamlLogoutOutcome.Refused(
                $"The IdP's LogoutResponse was refused: {validated.Error.Message} Your session in the application was already ended.");
        }
        if (!await sessions.RemoveLogoutAsync(connection.TenantId, pending, cancellationToken))
            return SamlLogoutOutcome.Refused("This sign-out was already completed.");
        // Profiles §4.4.4.2: a non-success status is a partial logout at the IdP; ours is done either way.
        LogIdpAnswered(logger, connection.Id.Value, validated.Value.IsSuccess ? "success" : "partial");
        return new SamlLogoutOutcome.Finished(pending.PostLogoutRedirectUri, pending.State);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "SAML logout message rejected: {FailureKind} (connection {ConnectionId})")]
    private static partial void LogRejected(ILogger logger, string connectionId, string failureKind);

    [LoggerMessage(Level = LogLevel.Information, Message = "IdP-initiated logout ended {Count} session(s) (connection {ConnectionId})")]
    private static partial void LogIdpLogout(ILogger logger, string connectionId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "IdP answered our LogoutRequest: {Outcome} (connection {ConnectionId})")]
    private static partial void LogIdpAnswered(ILogger logger, string connectionId, string outcome);
}
