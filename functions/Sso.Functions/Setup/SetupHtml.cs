using System.Net;
using System.Security.Cryptography;
using System.Text;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;

namespace Sso.Functions.Setup;

/// <summary>
/// The portal's pages: server-rendered HTML with the portal's own script and stylesheet only,
/// under <see cref="BrowserPages.ContentSecurityPolicy"/>, answered through <see cref="BrowserPages"/>.
/// Every value written into a page goes through <see cref="E"/>.
/// </summary>
public static class SetupHtml
{
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public sealed record Nav(SetupLink Link, string Current);

    public static string Page(string title, string? tenantName, Nav? nav, string mainHtml)
    {
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"robots\" content=\"noindex\">")
            .Append("<title>").Append(E(title)).Append("</title>")
            .Append("<link rel=\"stylesheet\" href=\"/setup/assets/portal.css\">")
            .Append("<script src=\"/setup/assets/portal.js\" defer></script></head><body>")
            .Append("<header><p class=\"brand\">Single sign-on setup</p>");
        if (tenantName is not null) html.Append("<p class=\"tenant\">for ").Append(E(tenantName)).Append("</p>");
        html.Append("</header>");
        if (nav is not null)
        {
            html.Append("<nav class=\"steps\" aria-label=\"Setup steps\"><ol>");
            void Step(string id, string label, string path)
            {
                html.Append("<li><a href=\"/setup").Append(path).Append('"');
                if (id == nav.Current) html.Append(" aria-current=\"step\"");
                html.Append('>').Append(E(label)).Append("</a></li>");
            }
            Step("idp", "Identity provider", "/idp");
            if (nav.Link.Has(SetupFeatures.Sso)) Step("sso", "Single sign-on", "/sso");
            if (nav.Link.Has(SetupFeatures.DirectorySync)) Step("dsync", "Directory sync", "/dsync");
            Step("status", "Status", "/status");
            html.Append("</ol></nav>");
        }
        html.Append("<main><h1>").Append(E(title)).Append("</h1>").Append(mainHtml).Append("</main></body></html>");
        return html.ToString();
    }

    /// <summary>A value the admin pastes into their IdP, with a copy button.</summary>
    public static string CopyValue(string id, string label, string value, string? note = null)
    {
        var html = new StringBuilder("<div class=\"copy\"><span class=\"label\" id=\"").Append(E(id)).Append("-label\">").Append(E(label)).Append("</span>")
            .Append("<code id=\"").Append(E(id)).Append("\">").Append(E(value)).Append("</code>")
            .Append("<button type=\"button\" class=\"copy-button\" data-copy=\"").Append(E(id)).Append("\" aria-describedby=\"")
            .Append(E(id)).Append("-label\">Copy</button>");
        if (note is not null) html.Append("<span class=\"note\">").Append(E(note)).Append("</span>");
        return html.Append("</div>").ToString();
    }

    public static string Alert(string kind, string message) =>
        $"<p class=\"alert {E(kind)}\" role=\"{(kind == "error" ? "alert" : "status")}\">{E(message)}</p>";

    public static IResult Result(int status, string html) => BrowserPages.Page(status, html);

    /// <summary>A page that also sets cookies (the anti-forgery cookie on first visit).</summary>
    public static IResult Result(int status, string html, Action<HttpResponse>? beforeWrite) => BrowserPages.Page(status, html, beforeWrite);

    /// <summary>A page for a link that cannot be used: it shows nothing of the tenant.</summary>
    public static IResult Unusable(int status, string title, string message) =>
        Result(status, Page(title, null, null, $"<p>{E(message)}</p><p>Ask the person who sent you the link for a new one.</p>"));

    public static IResult SeeOther(string location) => BrowserPages.SeeOther(location);
}

/// <summary>
/// Anti-forgery for the portal's forms: a random value in a SameSite=Strict, HttpOnly cookie
/// (Secure when the service is on https), and in each form a hidden field that is the HMAC of
/// that value under the link's own key. A POST passes only when the field matches the cookie
/// for this link (constant-time compare) and its Origin, when sent, is this service.
/// </summary>
public static class SetupCsrf
{
    public const string CookieName = "sso_setup_csrf";
    public const string FieldName = "csrf";

    /// <summary>The browser's anti-forgery cookie value, or a new one that the response must set.</summary>
    public static (string Value, bool IsNew) CookieValue(HttpRequest request) =>
        request.Cookies[CookieName] is { Length: 43 } existing ? (existing, false) : (Base64Url.Encode(RandomNumberGenerator.GetBytes(32)), true);

    public static void SetCookie(HttpResponse response, string value, bool secure) =>
        response.Cookies.Append(CookieName, value, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = secure,
            Path = "/setup",
            IsEssential = true,
        });

    public static string FieldValue(SetupLink link, string cookieValue) =>
        Base64Url.Encode(HMACSHA256.HashData(link.CsrfKey, Encoding.UTF8.GetBytes("setup-form|" + link.Id + "|" + cookieValue)));

    public static string HiddenField(SetupLink link, string cookieValue) =>
        $"<input type=\"hidden\" name=\"{FieldName}\" value=\"{SetupHtml.E(FieldValue(link, cookieValue))}\">";

    public static bool IsValid(HttpRequest request, IFormCollection form, SetupLink link, Uri publicBaseUrl)
    {
        if (!IsSameOrigin(request, publicBaseUrl)) return false;
        if (request.Cookies[CookieName] is not { Length: 43 } cookie) return false;
        if (form[FieldName].ToString() is not { Length: > 0 } presented) return false;
        var expected = Encoding.ASCII.GetBytes(FieldValue(link, cookie));
        var actual = Encoding.ASCII.GetBytes(presented);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>Whether a post came from this service's own pages (or was typed, for Sec-Fetch-Site: none).</summary>
    public static bool IsSameOrigin(HttpRequest request, Uri publicBaseUrl) => BrowserPages.IsSameOrigin(request, publicBaseUrl);
}

/// <summary>
/// The portal's session: a setup link is <c>/setup#secret</c>, and the fragment never reaches the
/// server, so no request path or query (which the Functions host records in Application Insights)
/// carries the secret. The page's script posts it once, in a form body, to <c>/setup/session</c>,
/// which answers with this cookie (HttpOnly, SameSite=Strict, Secure on https, scoped to
/// <c>/setup</c>, expiring with the link); every wizard page after that has a token-free URL.
/// The cookie holds the link's secret itself, so revoking or expiring the link ends the session.
/// </summary>
public static class SetupSession
{
    public const string CookieName = "sso_setup_session";
    public const string OpenPath = "/setup/session";
    public const string FieldName = "link";

    public static string? Token(HttpRequest request) => request.Cookies[CookieName] is { Length: > 0 } token ? token : null;

    public static void SetCookie(HttpResponse response, string token, DateTimeOffset expiresAt, bool secure) =>
        response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = secure,
            Path = "/setup",
            Expires = expiresAt,
            IsEssential = true,
        });

    /// <summary>The secret in what the admin pasted: the whole link, or only the part after '#'.</summary>
    public static string SecretOf(string pasted)
    {
        var text = pasted.Trim();
        var hash = text.LastIndexOf('#');
        if (hash >= 0) return text[(hash + 1)..];
        // An old-style link pasted whole: its last path segment.
        var slash = text.LastIndexOf('/');
        return slash >= 0 ? text[(slash + 1)..] : text;
    }
}
