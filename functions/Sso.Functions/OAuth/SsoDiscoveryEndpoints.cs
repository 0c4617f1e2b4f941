using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.OAuth;

/// <summary>
/// <c>GET /api/v1/sso/discover?email=&amp;client_id=&amp;redirect_uri=&amp;scope=</c>: what the product's
/// login page needs to offer "Continue with SSO" (or insist on it): whether the email's tenant
/// enforces SSO, and a ready <c>/oauth/authorize</c> URL. It reveals tenant and connection ids, so
/// it needs the admin key (<c>Bearer</c>) or the credentials of a registered client (<c>Basic</c>,
/// RFC 6749 §2.3.1); a client may only build URLs for itself.
/// </summary>
public static class SsoDiscoveryEndpoints
{
    public const string Route = "/api/v1/sso/discover";
    public const string DefaultScope = "openid email profile";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("DiscoverSso", Route, ["GET"], DiscoverAsync),
    ];

    private static async Task<IResult> DiscoverAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var cancellationToken = context.RequestAborted;
        context.Response.Headers.CacheControl = "no-store";
        var caller = await AuthenticateAsync(context);
        if (caller is null) return ProblemResults.Write(Problem.Unauthorized() with
        {
            Title = "A valid admin API key or client credentials are required",
            Detail = "Send 'Authorization: Bearer <admin key>', or the client's id and secret as 'Authorization: Basic ...'.",
        });

        var query = context.Request.Query;
        foreach (var name in new[] { "email", "client_id", "redirect_uri", "scope" })
            if (query[name].Count > 1) return ProblemResults.Write(Problem.Validation($"'{name}' appears more than once."));
        var email = query["email"].ToString().Trim();
        if (email.Length is 0 or > 320 || email.IndexOf('@') <= 0 || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            || DomainName.OfEmail(email) is not { } domain)
            return ProblemResults.Write(Problem.Validation("'email' must be an email address (name@company.com)."));

        var clientIdText = query["client_id"].Count == 1 ? query["client_id"].ToString() : caller.Client?.Id.Value;
        var redirectUri = query["redirect_uri"].Count == 1 ? query["redirect_uri"].ToString() : null;
        OAuthClient? client = null;
        if (clientIdText is not null)
        {
            if (caller.Client is { } authenticated && authenticated.Id.Value != clientIdText)
                return ProblemResults.Write(new Problem(403, "forbidden", "A client may discover only for itself",
                    "'client_id' must be the id of the client whose credentials were sent."));
            if (!ClientId.TryParse(clientIdText, out var clientId)
                || (client = caller.Client ?? await services.GetRequiredService<ClientStore>().FindAsync(clientId, cancellationToken)) is null)
                return ProblemResults.Write(Problem.Validation($"'client_id': there is no client '{Printable(clientIdText)}'."));
        }
        if (redirectUri is not null)
        {
            if (client is null) return ProblemResults.Write(Problem.Validation("'redirect_uri' needs 'client_id'."));
            if (!client.HasRedirectUri(redirectUri))
                return ProblemResults.Write(Problem.Validation("'redirect_uri' is not one of the client's registered redirect URIs."));
        }
        var scope = query["scope"].Count == 1 ? query["scope"].ToString() : DefaultScope;
        if (scope.Length is 0 or > 512 || scope.Any(c => c is < ' ' or > '~'))
            return ProblemResults.Write(Problem.Validation("'scope' must be space-separated scope names (printable ASCII)."));

        // The same routing as /oauth/authorize?login_hint=: verified-domain rules, then the oldest
        // connection that lists the domain, else the tenant's oldest connection.
        var body = new JsonObject { ["ssoRequired"] = false, ["tenantId"] = null, ["connectionId"] = null, ["authorizeUrl"] = null };
        if (await services.GetRequiredService<TenantStore>().FindSignInTenantAsync(domain, cancellationToken) is { } tenant)
        {
            context.Items[RequestPipeline.TenantItem] = tenant.Id.Value;
            var connection = ConnectionDomains.RouteFor(
                await services.GetRequiredService<ConnectionStore>().ListAsync(tenant.Id, cancellationToken), domain);
            body["ssoRequired"] = tenant.Settings.EnforceSso;
            body["tenantId"] = tenant.Id.Value;
            body["connectionId"] = connection?.Id.Value;
            if (connection is not null)
                body["authorizeUrl"] = AuthorizeUrl(services.GetRequiredService<SsoOptions>(), email, client?.Id.Value, redirectUri, scope);
        }
        return JsonResults.Ok(body, SsoJsonContext.Default.JsonObject);
    }

    /// <summary>
    /// <c>/oauth/authorize</c> with <c>response_type=code</c>, <c>scope</c>, <c>login_hint</c> and, when given,
    /// <c>client_id</c> and <c>redirect_uri</c>. The caller appends <c>state</c>, <c>code_challenge</c>,
    /// <c>code_challenge_method=S256</c> and <c>nonce</c>: they are per browser and never leave the product.
    /// </summary>
    public static string AuthorizeUrl(SsoOptions options, string email, string? clientId, string? redirectUri, string scope)
    {
        var url = new StringBuilder(options.Url("/oauth/authorize")).Append("?response_type=code");
        if (clientId is not null) url.Append("&client_id=").Append(Uri.EscapeDataString(clientId));
        if (redirectUri is not null) url.Append("&redirect_uri=").Append(Uri.EscapeDataString(redirectUri));
        url.Append("&scope=").Append(Uri.EscapeDataString(scope));
        url.Append("&login_hint=").Append(Uri.EscapeDataString(email));
        return url.ToString();
    }

    private sealed record Caller(string? AdminKeyId, OAuthClient? Client);

    private static async Task<Caller?> AuthenticateAsync(HttpContext context)
    {
        if (context.RequestServices.GetRequiredService<AdminKeys>().Authenticate(context.Request) is { } keyId)
        {
            context.Items[AdminApi.KeyIdItem] = keyId;
            return new Caller(keyId, null);
        }
        if (!AuthenticationHeaderValue.TryParse(context.Request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is not { Length: <= 2048 } encoded)
            return null;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return null;
        }
        // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
        var colon = decoded.IndexOf(':');
        if (colon <= 0) return null;
        var id = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
        var secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
        if (!ClientId.TryParse(id, out var clientId)
            || await context.RequestServices.GetRequiredService<ClientStore>().FindAsync(clientId, context.RequestAborted) is not { } client
            || !client.SecretMatches(secret))
            return null;
        return new Caller(null, client);
    }

    private static string Printable(string text) => new(text.Take(100).Where(c => c is >= ' ' and <= '~').ToArray());
}
