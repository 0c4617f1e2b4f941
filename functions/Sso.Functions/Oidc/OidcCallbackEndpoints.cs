using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Protocols.OAuth;
using Sso.Protocols.Oidc;

namespace Sso.Functions.Oidc;

/// <summary>
/// <c>GET /oidc/callback</c>: one redirect URI for every OIDC connection. The <c>state</c> is the
/// pending sign-in's handle and is consumed once; <see cref="OidcSignInVerifier"/> exchanges the
/// code at the IdP and validates the id_token, and the identity is handed to
/// <see cref="AuthorizationCodeIssuer"/>. Until the pending sign-in is found, nothing is trusted
/// enough to redirect to, so those failures are a 400 page.
/// </summary>
public static partial class OidcCallbackEndpoints
{
    public const string Route = "/oidc/callback";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("OidcCallback", Route, ["GET"], CallbackAsync),
    ];

    private static async Task<IResult> CallbackAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var services = context.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Oidc");
        var query = context.Request.Query;
        context.Response.Headers.CacheControl = "no-store";

        var state = query["state"].ToString();
        if (query["state"].Count != 1 || !PendingSignIn.TryReadConnection(state, out _))
            return OAuthResults.Page(400, "Sign-in failed",
                "The identity provider sent no valid sign-in state. Start the sign-in again from the application.");
        // Single use: the row is deleted under its ETag before anything else happens.
        if (await services.GetRequiredService<PendingSignInStore>().ConsumeAsync(state, cancellationToken) is not { } pending)
            return OAuthResults.Page(400, "Sign-in expired",
                "This sign-in has expired or was already completed. Start the sign-in again from the application.");

        var issuer = services.GetRequiredService<AuthorizationCodeIssuer>();
        context.Items[RequestPipeline.TenantItem] = pending.TenantId.Value;
        var connection = await services.GetRequiredService<ConnectionStore>().FindCachedAsync(pending.TenantId, pending.ConnectionId, cancellationToken);
        if (connection is null || OidcConnectionConfig.From(connection) is not { } config)
            return await issuer.FailAsync(context, pending, OAuthErrorCodes.AccessDenied, SignInRefusals.ConnectionUnavailable, cancellationToken);

        var response = new OidcAuthorizationResponse(
            [.. query["iss"].OfType<string>()], query["error"].ToString(), [.. query["code"].OfType<string>()]);
        var outcome = await services.GetRequiredService<OidcSignInVerifier>().VerifyAsync(pending, config, response, cancellationToken);
        if (!outcome.IsSuccess)
        {
            var (failure, error, description) = outcome.Error;
            LogRejected(logger, pending.TenantId.Value, pending.ConnectionId.Value, failure.Kind, failure.Message);
            return await issuer.FailAsync(context, pending, error, description, cancellationToken, failure.Kind.ToString());
        }
        return await issuer.CompleteAsync(context, pending, connection, outcome.Value, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OIDC response rejected: {FailureKind} (tenant {TenantId}, connection {ConnectionId}): {Reason}")]
    private static partial void LogRejected(ILogger logger, string tenantId, string connectionId, OidcFailureKind failureKind, string reason);
}
