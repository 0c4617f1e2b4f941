using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Protocols.OAuth;
using Sso.Protocols.Oidc;

namespace Sso.Functions.Oidc;

/// <summary>
/// What <c>GET /oidc/callback</c> received: <see cref="State"/> is null when the parameter was
/// missing or repeated; the other parameters as sent, every value of each.
/// </summary>
public sealed record OidcCallback(string? State, IReadOnlyList<string> Iss, string Error, IReadOnlyList<string> Code);

/// <summary>
/// Completes an OIDC connection's sign-in: the <c>state</c> is the pending sign-in's handle and is
/// consumed once; <see cref="OidcSignInVerifier"/> exchanges the code at the IdP and validates the
/// id_token, and the identity is handed to <see cref="AuthorizationCodeIssuer"/>. Until the pending
/// sign-in is found, nothing is trusted enough to redirect to, so those failures are a 400 page.
/// </summary>
public sealed partial class OidcSignInCompletion(
    PendingSignInStore pendingSignIns,
    ConnectionStore connections,
    OidcSignInVerifier verifier,
    AuthorizationCodeIssuer issuer,
    ILoggerFactory loggers)
{
    private readonly ILogger logger = loggers.CreateLogger("Sso.Functions.Oidc");

    public async Task<SignInCompletion> CompleteAsync(OidcCallback callback, CancellationToken cancellationToken)
    {
        if (callback.State is not { } state || !PendingSignIn.TryReadConnection(state, out _))
            return new SignInCompletion.Page(null, 400, "Sign-in failed",
                "The identity provider sent no valid sign-in state. Start the sign-in again from the application.");
        // Single use: the row is deleted under its ETag before anything else happens.
        if (await pendingSignIns.ConsumeAsync(state, cancellationToken) is not { } pending)
            return new SignInCompletion.Page(null, 400, "Sign-in expired",
                "This sign-in has expired or was already completed. Start the sign-in again from the application.");

        var connection = await connections.FindCachedAsync(pending.TenantId, pending.ConnectionId, cancellationToken);
        if (connection is null || OidcConnectionConfig.From(connection) is not { } config)
            return await issuer.FailAsync(pending, OAuthErrorCodes.AccessDenied, SignInRefusals.ConnectionUnavailable, cancellationToken);

        var response = new OidcAuthorizationResponse(callback.Iss, callback.Error, callback.Code);
        var outcome = await verifier.VerifyAsync(pending, config, response, cancellationToken);
        if (!outcome.IsSuccess)
        {
            var (failure, error, description) = outcome.Error;
            LogRejected(logger, pending.TenantId.Value, pending.ConnectionId.Value, failure.Kind, failure.Message);
            return await issuer.FailAsync(pending, error, description, cancellationToken, failure.Kind.ToString());
        }
        return await issuer.CompleteAsync(pending, connection, outcome.Value, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OIDC response rejected: {FailureKind} (tenant {TenantId}, connection {ConnectionId}): {Reason}")]
    private static partial void LogRejected(ILogger logger, string tenantId, string connectionId, OidcFailureKind failureKind, string reason);
}
