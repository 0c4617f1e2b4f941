using Sso.Functions.Hosting;
using static Sso.Functions.OperatorConsole.ConsoleLayout;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// Signing in to the console with an admin key: pasted once, exchanged for a session
/// (<see cref="ConsoleSession"/>); the key itself is never stored, logged or set in a cookie.
/// Signing out deletes the session.
/// </summary>
public static partial class ConsoleSignIn
{
    public const string Path = Base + "/sign-in";
    public const string KeyFieldName = "adminKey";
    public const string RefusalReason = "console_sign_in_refused";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ConsoleSignInPage", Path, ["GET"], context => Task.FromResult(SignInPage(context, 200, null))),
        new("ConsoleSignIn", Path, ["POST"], SignInAsync),
        new("ConsoleSignOut", Base + "/sign-out", ["POST"], SignOutAsync),
    ];

    /// <summary>Where to go after signing in: a console path only, never another site.</summary>
    public static string ReturnPath(string? requested) =>
        requested is { Length: > 0 and <= 1000 } path && path.StartsWith(Base, StringComparison.Ordinal)
        && (path.Length == Base.Length || path[Base.Length] is '/' or '?') && !path.Contains('\\') && !path.StartsWith(Path, StringComparison.Ordinal)
            ? path
            : Base;

    internal static IResult SignInPage(HttpContext context, int status, string? error) =>
        SignInPage(status, error, ReturnPath(context.Request.Query["return"].ToString()), context.RequestServices.GetService<ConsoleOidcOptions>(),
            context.Request.Query.ContainsKey("signed-out") ? "You are signed out." : null);

    internal static IResult SignInPage(int status, string? error, string returnPath, ConsoleOidcOptions? oidc, string? notice = null)
    {
        var main = new System.Text.StringBuilder("<div class=\"signin\">");
        if (notice is not null) main.Append(Alert("ok", notice));
        if (error is not null) main.Append(Alert("error", error));
        main.Append("<p>Sign in with one of this service's admin keys. The key is exchanged for a session of at most ")
            .Append((int)ConsoleSession.AbsoluteLifetime.TotalHours).Append(" hours (it ends after ")
            .Append((int)ConsoleSession.IdleLifetime.TotalMinutes).Append(" minutes without activity) and is not kept.</p>")
            .Append("<form method=\"post\" action=\"").Append(Path).Append("\" class=\"stack\">")
            .Append("<input type=\"hidden\" name=\"return\" value=\"").Append(E(returnPath)).Append("\">")
            .Append("<label class=\"field\" for=\"admin-key\">Admin key</label>")
            .Append("<input type=\"password\" id=\"admin-key\" name=\"").Append(KeyFieldName).Append("\" autocomplete=\"off\" required maxlength=\"512\">")
            .Append("<button type=\"submit\">Sign in</button></form>");
        if (oidc is { IsConfigured: true })
            main.Append("<h2>Or</h2><p><a class=\"button secondary\" href=\"").Append(ConsoleOidcSignIn.StartPath).Append("?return=")
                .Append(Q(returnPath)).Append("\">Sign in with ").Append(E(oidc.DisplayName)).Append("</a></p>");
        main.Append("</div>");
        return BrowserPages.Page(status, Page("Sign in", ConsoleSection.None, null, main.ToString()));
    }

    private static async Task<IResult> SignInAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<SsoOptions>();
        // Only our own page may sign a browser in: another site must not sign it in to the attacker's key.
        if (!context.Request.HasFormContentType || !BrowserPages.IsSameOrigin(context.Request, options.PublicBaseUrl))
            return ConsoleResults.Refused(403, "Request refused", "This sign-in did not come from the console's sign-in page.");
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return SignInPage(400, "The form could not be read.", Base, services.GetService<ConsoleOidcOptions>());
        }
        var returnPath = ReturnPath(form["return"].ToString());
        var signedIn = await services.GetRequiredService<ConsoleKeySignIn>().SignInAsync(form[KeyFieldName].ToString(), context.RequestAborted);
        if (!signedIn.TryGetValue(out var started, out var refused))
            return SignInPage(refused.Status, refused.Message, returnPath, services.GetService<ConsoleOidcOptions>());
        return ConsoleResults.SeeOther(returnPath, ConsoleSessionGate.SetCookie(context, started));
    }

    private static async Task<IResult> SignOutAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out _, out var forbidden)) return forbidden;
        var clearCookie = await ConsoleSessionGate.EndAsync(context, signedIn);
        await ConsoleResults.AuditAsync(context, signedIn, null, "console_session.delete", null, []);
        return ConsoleResults.SeeOther(Path + "?signed-out=1", clearCookie);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Console sign-in of {OperatorId} with {Method}")]
    internal static partial void LogSignedIn(ILogger logger, string operatorId, string method);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console sign-in refused: {Outcome}")]
    internal static partial void LogSignInRefused(ILogger logger, string outcome);
}
