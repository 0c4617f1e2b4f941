using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Sso.Protocols.Saml;

/// <summary>
/// The HTTP-POST binding's page (bindings §3.5.4): a form that carries the message to the
/// other party and submits itself. The page is served under a Content-Security-Policy that allows
/// exactly this one script (by its hash, <see cref="ScriptHashSource"/>) and a form post to the
/// destination's origin only (<see cref="FormActionSource"/>); without script a visible button
/// does the same.
/// </summary>
public static class SamlPostBinding
{
    public const string SubmitScript = "document.forms[0].submit();";

    /// <summary>The CSP source that allows <see cref="SubmitScript"/> and nothing else.</summary>
    public static string ScriptHashSource { get; } =
        "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(SubmitScript))) + "'";

    /// <summary>
    /// The CSP <c>form-action</c> source for <paramref name="destination"/>: its origin
    /// (scheme, host and port), so the form may post there and nowhere else.
    /// </summary>
    public static string FormActionSource(string destination) =>
        Uri.TryCreate(destination, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
            ? uri.GetLeftPart(UriPartial.Authority)
            : "'none'";

    public static string Page(string title, string destination, IEnumerable<KeyValuePair<string, string>> fields, string noScriptText)
    {
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").Append(WebUtility.HtmlEncode(title)).Append("</title></head><body>")
            .Append("<form method=\"post\" action=\"").Append(WebUtility.HtmlEncode(destination)).Append("\">");
        foreach (var (name, value) in fields)
            html.Append("<input type=\"hidden\" name=\"").Append(WebUtility.HtmlEncode(name))
                .Append("\" value=\"").Append(WebUtility.HtmlEncode(value)).Append("\"/>");
        return html
            .Append("<noscript><p>").Append(WebUtility.HtmlEncode(noScriptText)).Append("</p><button type=\"submit\">Continue</button></noscript>")
            .Append("</form><script>").Append(SubmitScript).Append("</script></body></html>")
            .ToString();
    }
}
