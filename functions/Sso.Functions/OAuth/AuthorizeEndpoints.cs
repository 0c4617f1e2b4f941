using System.Net;
using System.Text;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// <c>/oauth/authorize</c>: checks the request (AuthorizeRequestValidator), finds the connection
/// (by <c>connection</c>, <c>tenant</c> or the <c>login_hint</c> email domain, else a page that
/// asks for the work email), keeps the request as a pending sign-in and sends the browser to the IdP.
/// </summary>
public static partial class AuthorizeEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        // OIDC Core §3.1.2.1: the authorization endpoint supports GET and POST.
        new("OAuthAuthorize", "/oauth/authorize", ["GET", "POST"], AuthorizeAsync),
    ];

    private static async Task<IResult> AuthorizeAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var cancellationToken = context.RequestAborted;
        var parameters = await ReadParametersAsync(context.Request);
        // Refusals here name no pending sign-in: counted, never audited (issue 18.10).
        var refusals = services.GetRequiredService<Audit.RefusalCounter>();
        if (parameters is null)
        {
            refusals.Count(Audit.AuditRecord.GlobalPartition, "authorize:unreadable");
            return OAuthResults.Page(400, "Sign-in request refused", "The request could not be read.");
        }

        var clientIdValue = parameters.FirstOrDefault(p => p.Key == "client_id").Value;
        OAuthClient? client = null;
        if (ClientId.TryParse(clientIdValue, out var clientId))
            client = await services.GetRequiredService<ClientStore>().FindCachedAsync(clientId, cancellationToken);
        var validated = AuthorizeRequestValidator.Validate(parameters, client?.RedirectUris);
        var options = services.GetRequiredService<SsoOptions>();
        if (!validated.IsSuccess)
        {
            var failure = validated.Error;
            LogRefused(services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.OAuth"), failure.Error.Code);
            refusals.Count(Audit.AuditRecord.GlobalPartition, "authorize:" + failure.Error.Code);
            return failure.CanRedirect
                ? OAuthResults.ErrorRedirect(failure.RedirectUri!, failure.ResponseMode,
                    failure.Error.Code, failure.Error.Description, failure.State, options.Issuer)
                : OAuthResults.Page(400, "Sign-in request refused", failure.Error.Description);
        }
        var request = validated.Value;

        var routed = await RouteAsync(services, request, cancellationToken);
        if (routed.Connection is null && routed.Error is not null)
            refusals.Count(Audit.AuditRecord.GlobalPartition, "authorize:unroutable");
        if (routed.Connection is null)
            return routed.Error is { } routingError
                ? OAuthResults.ErrorRedirect(request.RedirectUri, request.ResponseMode,
                    routingError.Code, routingError.Description, request.State, options.Issuer)
                : HomeRealmDiscoveryPage(parameters, routed.Page);

        var connection = routed.Connection;
        context.Items[RequestPipeline.TenantItem] = connection.TenantId.Value;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
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
        return SignInStarters.ToResult(context, await services.GetRequiredService<SignInStarters>().StartAsync(pending, connection, cancellationToken));
    }

    private sealed record Routing(Connection? Connection, OAuthError? Error, string? Page);

    /// <summary><c>connection</c> wins over <c>tenant</c>, which wins over <c>login_hint</c>.</summary>
    private static async Task<Routing> RouteAsync(IServiceProvider services, AuthorizeRequest request, CancellationToken cancellationToken)
    {
        var connections = services.GetRequiredService<ConnectionStore>();
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
            return await FirstConnectionAsync(connections, tenantId, cancellationToken) is { } connection
                ? new Routing(connection, null, null)
                : new Routing(null, OAuthError.InvalidRequest("The tenant has no SSO connection."), null);
        }
        if (request.LoginHint is { } hint)
        {
            var domain = DomainName.OfEmail(hint);
            if (domain is null)
                return new Routing(null, null, "Enter your work email address (name@company.com).");
            // A domain that its tenant has not verified (while it requires verification) routes nothing.
            if (await services.GetRequiredService<TenantStore>().FindSignInTenantAsync(domain, cancellationToken) is not { } tenant
                || await FirstConnectionAsync(connections, tenant.Id, cancellationToken, domain) is not { } connection)
                return new Routing(null, null, "Single sign-on is not set up for that email domain. Check the address, or ask your IT administrator.");
            return new Routing(connection, null, null);
        }
        return new Routing(null, null, null);
    }

    // A tenant with several connections signs in through its oldest enabled one unless the client
    // names one; a login_hint goes to the oldest enabled connection that lists its domain (issue 18.6).
    private static async Task<Connection?> FirstConnectionAsync(ConnectionStore connections, TenantId tenantId, CancellationToken cancellationToken,
        string? domain = null) =>
        ConnectionDomains.RouteFor(await connections.ListAsync(tenantId, cancellationToken), domain);

    /// <summary>
    /// Home-realm discovery: a form that sends the same authorization request back with the
    /// typed email as <c>login_hint</c>. Nothing is stored until a connection is found.
    /// </summary>
    private static IResult HomeRealmDiscoveryPage(IReadOnlyList<KeyValuePair<string, string>> parameters, string? message)
    {
        var body = new StringBuilder();
        if (message is not null) body.Append("<p role=\"alert\">").Append(WebUtility.HtmlEncode(message)).Append("</p>");
        body.Append("<form method=\"get\" action=\"/oauth/authorize\">");
        foreach (var (name, value) in parameters)
        {
            if (name == "login_hint") continue;
            body.Append("<input type=\"hidden\" name=\"").Append(WebUtility.HtmlEncode(name))
                .Append("\" value=\"").Append(WebUtility.HtmlEncode(value)).Append("\">");
        }
        body.Append("<label for=\"login_hint\">Work email</label>")
            .Append("<input id=\"login_hint\" name=\"login_hint\" type=\"email\" autocomplete=\"email\" required autofocus>")
            .Append("<button type=\"submit\">Continue</button></form>");
        return OAuthResults.Html(200, OAuthResults.HtmlPage("Sign in with SSO", body.ToString()));
    }

    private static async Task<IReadOnlyList<KeyValuePair<string, string>>?> ReadParametersAsync(HttpRequest request)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        if (HttpMethods.IsPost(request.Method))
        {
            if (!request.HasFormContentType) return null;
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            foreach (var (name, values) in form)
                foreach (var value in values)
                    parameters.Add(new(name, value ?? ""));
            return parameters;
        }
        foreach (var (name, values) in request.Query)
            foreach (var value in values)
                parameters.Add(new(name, value ?? ""));
        return parameters;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Authorization request refused: {Outcome}")]
    private static partial void LogRefused(ILogger logger, string outcome);
}
