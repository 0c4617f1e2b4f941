using Sso.Functions.Hosting;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// OIDC RP-Initiated Logout 1.0 (<c>end_session_endpoint</c>). This service keeps no browser
/// session, so the id_token_hint names the sign-in session to end: its tokens are refused at
/// once, and when it came through a SAML IdP that offers Single Logout the browser is sent on
/// to the IdP with a signed LogoutRequest; the IdP's answer comes back to the SLO endpoint,
/// which finishes at the post_logout_redirect_uri.
/// </summary>
public static class LogoutEndpoints
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

        switch (await services.GetRequiredService<RpLogout>().LogoutAsync(parameters, cancellationToken))
        {
            case RpLogoutOutcome.Refused refused:
                return Refused(refused.Message);
            case RpLogoutOutcome.ToIdp toIdp:
                context.Items[RequestPipeline.TenantItem] = toIdp.TenantId.Value;
                return OAuthResults.ToIdp(toIdp.Request);
            case RpLogoutOutcome.SignedOut signedOut:
                context.Items[RequestPipeline.TenantItem] = signedOut.TenantId.Value;
                return Finish(signedOut.PostLogoutRedirectUri, signedOut.State);
            default:
                throw new InvalidOperationException("Unknown logout outcome.");
        }
    }

    /// <summary>The end of every logout: to the registered post_logout_redirect_uri with the state, or a page.</summary>
    public static IResult Finish(string? postLogoutRedirectUri, string? state) =>
        postLogoutRedirectUri is null
            ? OAuthResults.Page(200, "Signed out", "You have been signed out. You can close this window.")
            : OAuthResults.Redirect(postLogoutRedirectUri, ResponseModes.Query, [new("state", state)]);

    private static IResult Refused(string message) => OAuthResults.Page(400, "Sign-out failed", message);
}
