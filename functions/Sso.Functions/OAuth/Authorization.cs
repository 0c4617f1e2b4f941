using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// The work of <c>/oauth/authorize</c>: checks the request (AuthorizeRequestValidator), finds the
/// connection (by <c>connection</c>, <c>tenant</c> or the <c>login_hint</c> email domain, else
/// asks for the work email), keeps the request as a pending sign-in and starts the IdP leg.
/// Refusals here name no pending sign-in: counted, never audited (issue 18.10).
/// </summary>
public sealed partial class Authorization(ClientStore clients, ConnectionStore connections, TenantStore tenants,
    SignInStarters starters, RefusalCounter refusals, SsoOptions options, TimeProvider clock, ILoggerFactory loggers)
{
    private readonly ILogger logger = loggers.CreateLogger("Sso.Functions.OAuth");

    /// <param name="parameters">The request's parameters (query or form); null when the request could not be read.</param>
    public async Task<AuthorizeOutcome> AuthorizeAsync(IReadOnlyList<KeyValuePair<string, string>>? parameters,
        CancellationToken cancellationToken)
    {
        if (parameters is null)
        {
            refusals.Count(AuditRecord.GlobalPartition, "authorize:unreadable");
            return new AuthorizeOutcome.Refused(RefusedPage("The request could not be read."));
        }

        var clientIdValue = parameters.FirstOrDefault(p => p.Key == "client_id").Value;
        OAuthClient? client = null;
        if (ClientId.TryParse(clientIdValue, out var clientId))
            client = await clients.FindCachedAsync(clientId, cancellationToken);
        var validated = AuthorizeRequestValidator.Validate(parameters, client?.RedirectUris);
        if (!validated.IsSuccess)
        {
            var failure = validated.Error;
            LogRefused(logger, failure.Error.Code);
            refusals.Count(AuditRecord.GlobalPartition, "authorize:" + failure.Error.Code);
            return new AuthorizeOutcome.Refused(failure.CanRedirect
                ? new SignInCompletion.Refused(null, failure.RedirectUri!, failure.ResponseMode, failure.Error.Code,
                    failure.Error.Description, failure.State, options.Issuer)
                : RefusedPage(failure.Error.Description));
        }
        var request = validated.Value;

        var routed = await RouteAsync(request, cancellationToken);
        if (routed.Connection is not { } connection)
        {
            if (routed.Error is not { } routingError) return new AuthorizeOutcome.AskForEmail(routed.Page);
            refusals.Count(AuditRecord.GlobalPartition, "authorize:unroutable");
            return new AuthorizeOutcome.Refused(new SignInCompletion.Refused(null, request.RedirectUri, request.ResponseMode,
                routingError.Code, routingError.Description, request.State, options.Issuer));
        }

        var now = clock.GetUtcNow();
        var pending = new PendingSignIn
        {
            Handle = PendingSignIn.NewHandle(connection.Id),
            ClientId = client!.Id,
            RedirectUri = request.RedirectUri,
            State = request.State,
            Nonce = request.Nonce,
            CodeChallenge = request.CodeChallenge,
            CodeChallengeMethod = request.CodeChallengeMethod,
            Scope = request.Scope,
            ResponseMode = request.ResponseMode,
            StepUp = request.StepUp,
            TenantId = connection.TenantId,
            ConnectionId = connection.Id,
            CreatedAt = now,
            ExpiresAt = now + PendingSignIn.Lifetime,
        };
        return new AuthorizeOutcome.Started(connection.TenantId, await starters.StartAsync(pending, connection, cancellationToken));
    }

    private static SignInCompletion.Page RefusedPage(string message) => new(null, 400, "Sign-in request refused", message);

    private sealed record Routing(Connection? Connection, OAuthError? Error, string? Page);

    /// <summary><c>connection</c> wins over <c>tenant</c>, which wins over <c>login_hint</c>.</summary>
    private async Task<Routing> RouteAsync(AuthorizeRequest request, CancellationToken cancellationToken)
    {
        if (request.Connection is { } rawConnection)
        {
            if (!ConnectionId.TryParse(rawConnection, out var connectionId)
                || await connections.FindCachedByIdAsync(connectionId, cancellationToken) is not { } connection)
                return new Routing(null, OAuthError.InvalidRequest("connection names no connection of this service."), null);
            if (request.Tenant is { } tenant && tenant != connection.TenantId.Value)
                return new Routing(null, OAuthError.InvalidRequest("connection does not belong to tenant."), null);
            return new Routing(connection, null, null);
        }
        if (request.Tenant is { } rawTenant)
        {
            if (!TenantId.TryParse(rawTenant, out var tenantId))
                return new Routing(null, OAuthError.InvalidRequest("tenant names no tenant of this service."), null);
            return await FirstConnectionAsync(tenantId, cancellationToken) is { } connection
                ? new Routing(connection, null, null)
                : new Routing(null, OAuthError.InvalidRequest("The tenant has no SSO connection."), null);
        }
        if (request.LoginHint is { } hint)
        {
            var domain = DomainName.OfEmail(hint);
            if (domain is null)
                return new Routing(null, null, "Enter your work email address (name@company.com).");
            // A domain that its tenant has not verified (while it requires verification) routes nothing.
            if (await tenants.FindSignInTenantAsync(domain, cancellationToken) is not { } tenant
                || await FirstConnectionAsync(tenant.Id, cancellationToken, domain) is not { } connection)
                return new Routing(null, null, "Single sign-on is not set up for that email domain. Check the address, or ask your IT administrator.");
            return new Routing(connection, null, null);
        }
        return new Routing(null, null, null);
    }

    // A tenant with several connections signs in through its oldest enabled one unless the client
    // names one; a login_hint goes to the oldest enabled connection that lists its domain (issue 18.6).
    private async Task<Connection?> FirstConnectionAsync(TenantId tenantId, CancellationToken cancellationToken, string? domain = null) =>
        ConnectionDomains.RouteFor(await connections.ListAsync(tenantId, cancellationToken), domain);

    [LoggerMessage(Level = LogLevel.Information, Message = "Authorization request refused: {Outcome}")]
    private static partial void LogRefused(ILogger logger, string outcome);
}

/// <summary>What <c>/oauth/authorize</c> answers.</summary>
public abstract record AuthorizeOutcome
{
    private AuthorizeOutcome()
    {
    }

    /// <summary>Refused before any sign-in exists: an error redirect to the client or, when none can be trusted, a page.</summary>
    public sealed record Refused(SignInCompletion Answer) : AuthorizeOutcome;

    /// <summary>No connection named and none found from the email: home-realm discovery, with <paramref name="Message"/> when the email was tried.</summary>
    public sealed record AskForEmail(string? Message) : AuthorizeOutcome;

    /// <summary>A pending sign-in of <paramref name="TenantId"/> was handed to its connection's starter.</summary>
    public sealed record Started(TenantId TenantId, Result<IdpRequest, SignInCompletion> Start) : AuthorizeOutcome;
}
