using System.Net.Http.Headers;
using System.Text;
using Sso.Functions.Hosting;

namespace Sso.Functions.OAuth;

/// <summary>
/// <c>GET /api/v1/sso/discover?email=&amp;client_id=&amp;redirect_uri=&amp;scope=</c>: what the product's
/// login page needs to offer "Continue with SSO" (or insist on it): whether the email's tenant
/// enforces SSO, and a ready <c>/oauth/authorize</c> URL. It reveals tenant and connection ids, so
/// it needs the admin key (<c>Bearer</c>) or the credentials of a registered client (<c>Basic</c>,
/// RFC 6749 §2.3.1); a client may only build URLs for itself. The work is <see cref="SsoDiscovery"/>'s.
/// </summary>
public static class SsoDiscoveryEndpoints
{
    public const string Route = "/api/v1/sso/discover";
    public const string DefaultScope = SsoDiscovery.DefaultScope;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("DiscoverSso", Route, ["GET"], DiscoverAsync),
    ];

    private static async Task<IResult> DiscoverAsync(HttpContext context)
    {
        var discovery = context.RequestServices.GetRequiredService<SsoDiscovery>();
        context.Response.Headers.CacheControl = "no-store";
        var caller = await AuthenticateAsync(context, discovery);
        if (caller is null) return ProblemResults.Write(Problem.Unauthorized() with
        {
            Title = "A valid admin API key or client credentials are required",
            Detail = "Send 'Authorization: Bearer <admin key>', or the client's id and secret as 'Authorization: Basic ...'.",
        });

        var query = context.Request.Query;
        foreach (var name in new[] { "email", "client_id", "redirect_uri", "scope" })
            if (query[name].Count > 1) return ProblemResults.Write(Problem.Validation($"'{name}' appears more than once."));
        string? Single(string name) => query[name].Count == 1 ? query[name].ToString() : null;
        var discovered = await discovery.DiscoverAsync(
            new SsoDiscoveryQuery(query["email"].ToString(), Single("client_id"), Single("redirect_uri"), Single("scope")),
            caller.Client, context.RequestAborted);
        if (!discovered.TryGetValue(out var answer, out var problem)) return ProblemResults.Write(problem);
        if (answer.TenantId is { } tenantId) context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        return JsonResults.Ok(answer.Body, SsoJsonContext.Default.JsonObject);
    }

    private sealed record Caller(string? AdminKeyId, OAuthClient? Client);

    private static async Task<Caller?> AuthenticateAsync(HttpContext context, SsoDiscovery discovery)
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
        return await discovery.AuthenticateClientAsync(id, secret, context.RequestAborted) is { } client ? new Caller(null, client) : null;
    }
}
