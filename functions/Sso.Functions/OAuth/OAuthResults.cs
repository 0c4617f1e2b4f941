using Sso.Protocols.OAuth;
using Sso.Protocols.Saml;
using System.Net;
using System.Text;
using System.Text.Json;
using Sso.Functions.Hosting;

namespace Sso.Functions.OAuth;

/// <summary>
/// The OAuth writers: a redirect back to the client (RFC 6749 §4.1.2, honouring
/// <c>response_mode</c>), the HTML page shown when no redirect can be trusted, and the token
/// endpoint's JSON errors (RFC 6749 §5.2).
/// </summary>
public static class OAuthResults
{
    /// <summary>
    /// Sends the browser back to a redirect URI that has already been matched against the
    /// client's registrations. <c>query</c>: a 302 with the parameters in the query;
    /// <c>form_post</c>: an auto-submitting form (OAuth 2.0 Form Post Response Mode).
    /// </summary>
    public static IResult Redirect(string redirectUri, string responseMode, IReadOnlyList<KeyValuePair<string, string?>> parameters) =>
        new RedirectResult(redirectUri, responseMode, parameters.Where(p => p.Value is not null).ToList());

    /// <summary>A human-readable page; used when the request cannot be answered with a redirect.</summary>
    public static IResult Page(int status, string title, string message) => HtmlPages.Error(status, title, message);

    public static IResult Html(int status, string html) => HtmlPages.Html(status, html);

    /// <summary>
    /// An OAuth error sent back to a redirect URI that has already been validated (RFC 6749
    /// §4.1.2.1), with the client's state and our issuer (RFC 9207).
    /// </summary>
    public static IResult ErrorRedirect(string redirectUri, string responseMode, string error, string? description,
        string? state, string issuer) =>
        Redirect(redirectUri, responseMode,
        [
            new("error", error),
            new("error_description", description),
            new("state", state),
            new("iss", issuer),
        ]);

    /// <summary>
    /// A SAML HTTP-POST binding page (<see cref="SamlPostBinding.Page"/>) for the IdP at
    /// <paramref name="destination"/>: its policy allows the page's one submit script and a form
    /// post to the IdP's origin, nothing else (the default page policy's <c>form-action 'self'</c>
    /// would make the browser refuse the post). Chromium checks every redirect that follows the
    /// post against <c>form-action</c> as well, so the origins the chain may pass through are
    /// allowed too: ours (an IdP answers a LogoutRequest by redirecting back to our SLO endpoint)
    /// and <paramref name="thenTo"/> (the client's post_logout_redirect_uri, where that ends).
    /// </summary>
    public static IResult PostBindingPage(string html, string destination, string? thenTo = null)
    {
        var formAction = SamlPostBinding.FormActionSource(destination) + " 'self'";
        if (thenTo is not null && SamlPostBinding.FormActionSource(thenTo) is var next && next != "'none'") formAction += " " + next;
        return HtmlPages.Html(200, html,
            $"default-src 'none'; script-src {SamlPostBinding.ScriptHashSource}; form-action {formAction}; base-uri 'none'");
    }

    /// <summary>The browser's way to the IdP: a no-store redirect or a POST-binding page.</summary>
    public static IResult ToIdp(IdpRequest request) => request switch
    {
        IdpRequest.Redirect redirect => NoStoreRedirect(redirect.Url),
        IdpRequest.PostForm form => PostBindingPage(form.Html, form.Destination, form.ThenTo),
        _ => throw new InvalidOperationException("Unknown IdP request."),
    };

    /// <summary>A 302 that no cache keeps: it carries a one-time request to an IdP.</summary>
    public static IResult NoStoreRedirect(string location) => new NoStoreRedirectResult(location);

    public static string HtmlPage(string title, string bodyHtml) => HtmlPages.Document(title, bodyHtml);

    /// <summary>An RFC 6749 §5.2 error from the token or userinfo endpoint.</summary>
    public static IResult TokenError(string error, string description, int status = 400) =>
        OAuthErrorResults.Json(error, description, status, null);

    /// <summary><c>invalid_client</c>: 401 with a challenge for the scheme the client used (RFC 6749 §5.2).</summary>
    public static IResult InvalidClient(string description, bool usedBasic) =>
        OAuthErrorResults.Json(OAuthErrorCodes.InvalidClient, description, 401,
            usedBasic ? "Basic realm=\"oauth\", charset=\"UTF-8\"" : null);

    /// <summary>RFC 6750 §3.1: a refused bearer token at a resource endpoint.</summary>
    public static IResult InvalidToken(string description) =>
        OAuthErrorResults.Json("invalid_token", description, 401,
            $"Bearer error=\"invalid_token\", error_description=\"{description.Replace("\"", "'")}\"");

    public static IResult MissingToken() =>
        OAuthErrorResults.Json("invalid_request", "Send the access token as 'Authorization: Bearer <token>'.", 401, "Bearer");

    private sealed class NoStoreRedirectResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }

    private sealed class RedirectResult(string redirectUri, string responseMode, List<KeyValuePair<string, string?>> parameters) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.Pragma = "no-cache";
            if (responseMode == ResponseModes.FormPost)
            {
                var html = new StringBuilder()
                    .Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Signing in</title></head>")
                    .Append("<body onload=\"document.forms[0].submit()\">")
                    .Append("<form method=\"post\" action=\"").Append(WebUtility.HtmlEncode(redirectUri)).Append("\">");
                foreach (var (name, value) in parameters)
                    html.Append("<input type=\"hidden\" name=\"").Append(WebUtility.HtmlEncode(name))
                        .Append("\" value=\"").Append(WebUtility.HtmlEncode(value)).Append("\"/>");
                html.Append("<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>");
                context.Response.StatusCode = 200;
                context.Response.ContentType = "text/html; charset=utf-8";
                // The form must be able to post to the client's origin; nothing else runs here.
                context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; form-action *";
                await context.Response.WriteAsync(html.ToString(), context.RequestAborted);
                return;
            }
            var query = string.Join("&", parameters.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value!)));
            var separator = redirectUri.Contains('?') ? "&" : "?";
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = redirectUri + separator + query;
        }
    }
}
