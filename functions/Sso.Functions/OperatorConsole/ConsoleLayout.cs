using System.Net;
using System.Text;

namespace Sso.Functions.OperatorConsole;

/// <summary>The console's sections, in nav order.</summary>
public enum ConsoleSection
{
    None,
    Overview,
    Tenants,
    SignIns,
    Events,
    DeadLetters,
    Holds,
}

/// <summary>The signed-in operator as the page shell shows them: a name and the token its forms carry.</summary>
public sealed record ConsoleViewer(string OperatorName, string CsrfToken);

/// <summary>
/// The console's HTML, pure model to string: the page shell (nav, operator, sign-out), encoding,
/// forms that carry the anti-forgery field, message boxes. Every value written into a page goes
/// through <see cref="E"/>; pages use the console's own stylesheet and script only
/// (<see cref="ConsoleAssets"/>), under <see cref="Hosting.BrowserPages.ContentSecurityPolicy"/>.
/// </summary>
public static class ConsoleLayout
{
    public const string Base = "/console";
    public const string CsrfFieldName = "csrf";

    /// <summary>The nav: section, label, path. Paths are stable; other pages link to them.</summary>
    public static readonly IReadOnlyList<(ConsoleSection Section, string Label, string Path)> Nav =
    [
        (ConsoleSection.Overview, "Overview", Base),
        (ConsoleSection.Tenants, "Tenants", Base + "/tenants"),
        (ConsoleSection.SignIns, "Sign-ins & SCIM", Base + "/activity"),
        (ConsoleSection.Events, "Events & webhooks", Base + "/events"),
        (ConsoleSection.DeadLetters, "Dead letters", Base + "/dead-letters"),
        (ConsoleSection.Holds, "Holds", Base + "/holds"),
    ];

    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A query-string value, encoded for a URL and then for the attribute it sits in.</summary>
    public static string Q(string? text) => Uri.EscapeDataString(text ?? "");

    /// <summary>A whole console page. <paramref name="viewer"/> null: a page outside a session (sign-in, errors).</summary>
    public static string Page(string title, ConsoleSection current, ConsoleViewer? viewer, string mainHtml, string? flashHtml = null)
    {
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"robots\" content=\"noindex\">")
            .Append("<title>").Append(E(title)).Append(" · SSO console</title>")
            .Append("<link rel=\"stylesheet\" href=\"").Append(ConsoleAssets.StylePath).Append("\">")
            .Append("<script src=\"").Append(ConsoleAssets.ScriptPath).Append("\" defer></script></head><body>")
            .Append("<header class=\"bar\"><a class=\"brand\" href=\"").Append(Base).Append("\">SSO console</a>");
        if (viewer is not null)
        {
            html.Append("<nav class=\"sections\" aria-label=\"Console\"><ul>");
            foreach (var (section, label, path) in Nav)
            {
                html.Append("<li><a href=\"").Append(path).Append('"');
                if (section == current) html.Append(" aria-current=\"page\"");
                html.Append('>').Append(E(label)).Append("</a></li>");
            }
            html.Append("</ul></nav><div class=\"operator\"><span class=\"who\" title=\"Signed in as\">").Append(E(viewer.OperatorName)).Append("</span>")
                .Append(Form(Base + "/sign-out", viewer.CsrfToken, "<button type=\"submit\" class=\"link\">Sign out</button>", "inline"))
                .Append("</div>");
        }
        html.Append("</header><main><h1>").Append(E(title)).Append("</h1>");
        if (flashHtml is not null) html.Append(flashHtml);
        return html.Append(mainHtml).Append("</main></body></html>").ToString();
    }

    public static string CsrfField(string csrfToken) =>
        $"<input type=\"hidden\" name=\"{CsrfFieldName}\" value=\"{E(csrfToken)}\">";

    /// <summary>A POST form to <paramref name="action"/> (a console path) that carries the anti-forgery field.</summary>
    public static string Form(string action, string csrfToken, string innerHtml, string? cssClass = null) =>
        $"<form method=\"post\" action=\"{E(action)}\"{(cssClass is null ? "" : $" class=\"{E(cssClass)}\"")}>{CsrfField(csrfToken)}{innerHtml}</form>";

    /// <summary>A one-button POST form (Verify, Revoke...).</summary>
    public static string ButtonForm(string action, string csrfToken, string label, string? buttonClass = null, string? hiddenName = null,
        string? hiddenValue = null) =>
        Form(action, csrfToken,
            (hiddenName is null ? "" : $"<input type=\"hidden\" name=\"{E(hiddenName)}\" value=\"{E(hiddenValue)}\">")
            + $"<button type=\"submit\"{(buttonClass is null ? "" : $" class=\"{E(buttonClass)}\"")}>{E(label)}</button>",
            "inline");

    /// <summary>A message box: kind <c>ok</c>, <c>warn</c> or <c>error</c> (errors are announced as alerts).</summary>
    public static string Alert(string kind, string message) =>
        $"<p class=\"alert {E(kind)}\" role=\"{(kind == "error" ? "alert" : "status")}\">{E(message)}</p>";

    /// <summary>The flash message a redirect carries in its query (<c>?done=…</c>): only fixed texts the page knows, never free text from the URL.</summary>
    public static string? Flash(string? key, IReadOnlyDictionary<string, string> messages) =>
        key is not null && messages.TryGetValue(key, out var message) ? Alert("ok", message) : null;

    /// <summary>A value to copy (a TXT record, a setup link), with a copy button for browsers that run the script.</summary>
    public static string CopyValue(string id, string value) =>
        $"<span class=\"copyable\"><code id=\"{E(id)}\">{E(value)}</code>"
        + $"<button type=\"button\" class=\"copy-button\" data-copy=\"{E(id)}\">Copy</button></span>";

    public static string Badge(string kind, string text) => $"<span class=\"badge {E(kind)}\">{E(text)}</span>";

    public static string Time(DateTimeOffset? at) =>
        at is { } t ? $"<time datetime=\"{t.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}\">{t.UtcDateTime:yyyy-MM-dd HH:mm} UTC</time>" : "<span class=\"muted\">—</span>";
}
