using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.OAuth;

/// <summary>
/// What <c>/api/v1/sso/discover</c> was asked: each parameter as sent, null when absent
/// (<paramref name="ClientId"/> then defaults to the calling client, <paramref name="Scope"/> to
/// <see cref="SsoDiscovery.DefaultScope"/>).
/// </summary>
public sealed record SsoDiscoveryQuery(string Email, string? ClientId, string? RedirectUri, string? Scope);

/// <summary>The answer's body, and the email's tenant (for the request log) when it has one.</summary>
public sealed record SsoDiscoveryAnswer(TenantId? TenantId, JsonObject Body);

/// <summary>
/// The work of <c>/api/v1/sso/discover</c>: checks the query (with the API's messages), finds the
/// email's tenant and connection the way <c>/oauth/authorize?login_hint=</c> does, and builds the
/// authorize URL. Also authenticates a client by its id and secret. No HTTP.
/// </summary>
public sealed class SsoDiscovery(ClientStore clients, TenantStore tenants, ConnectionStore connections, SsoOptions options)
{
    public const string DefaultScope = "openid email profile";

    /// <summary>The registered client these credentials belong to, or null.</summary>
    public async Task<OAuthClient?> AuthenticateClientAsync(string clientId, string secret, CancellationToken cancellationToken) =>
        ClientId.TryParse(clientId, out var id) && await clients.FindAsync(id, cancellationToken) is { } client && client.SecretMatches(secret)
            ? client
            : null;

    /// <param name="caller">The client whose credentials were sent; null for the admin key.</param>
    public async Task<Result<SsoDiscoveryAnswer, Problem>> DiscoverAsync(SsoDiscoveryQuery query, OAuthClient? caller,
        CancellationToken cancellationToken)
    {
        var email = query.Email.Trim();
        if (email.Length is 0 or > 320 || email.IndexOf('@') <= 0 || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            || DomainName.OfEmail(email) is not { } domain)
            return Problem.Validation("'email' must be an email address (name@company.com).");

        var clientIdText = query.ClientId ?? caller?.Id.Value;
        OAuthClient? client = null;
        if (clientIdText is not null)
        {
            if (caller is not null && caller.Id.Value != clientIdText)
                return new Problem(403, "forbidden", "A client may discover only for itself",
                    "'client_id' must be the id of the client whose credentials were sent.");
            if (!ClientId.TryParse(clientIdText, out var clientId)
                || (client = caller ?? await clients.FindAsync(clientId, cancellationToken)) is null)
                return Problem.Validation($"'client_id': there is no client '{Printable(clientIdText)}'.");
        }
        if (query.RedirectUri is { } redirectUri)
        {
            if (client is null) return Problem.Validation("'redirect_uri' needs 'client_id'.");
            if (!client.HasRedirectUri(redirectUri))
                return Problem.Validation("'redirect_uri' is not one of the client's registered redirect URIs.");
        }
        var scope = query.Scope ?? DefaultScope;
        if (scope.Length is 0 or > 512 || scope.Any(c => c is < ' ' or > '~'))
            return Problem.Validation("'scope' must be space-separated scope names (printable ASCII).");

        // The same routing as /oauth/authorize?login_hint=: verified-domain rules, then the oldest
        // connection that lists the domain, else the tenant's oldest connection.
        var body = new JsonObject { ["ssoRequired"] = false, ["tenantId"] = null, ["connectionId"] = null, ["authorizeUrl"] = null };
        if (await tenants.FindSignInTenantAsync(domain, cancellationToken) is not { } tenant) return new SsoDiscoveryAnswer(null, body);
        var connection = ConnectionDomains.RouteFor(await connections.ListAsync(tenant.Id, cancellationToken), domain);
        body["ssoRequired"] = tenant.Settings.EnforceSso;
        body["tenantId"] = tenant.Id.Value;
        body["connectionId"] = connection?.Id.Value;
        if (connection is not null) body["authorizeUrl"] = AuthorizeUrl(options, email, client?.Id.Value, query.RedirectUri, scope);
        return new SsoDiscoveryAnswer(tenant.Id, body);
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

    private static string Printable(string text) => new(text.Take(100).Where(c => c is >= ' ' and <= '~').ToArray());
}
