using System.Security.Cryptography;
using System.Text;
using Sso.Functions.Audit;
using Sso.Functions.Hosting;
using Sso.Protocols;

namespace Sso.Functions.OperatorConsole;

/// <summary>A request of a signed-in operator: the session, who they are, and the token the page's forms carry.</summary>
public sealed record SignedInOperator(ConsoleSession Session, AuditActor Operator, string CsrfToken)
{
    public ConsoleViewer Viewer => new(Operator.Id, CsrfToken);
}

/// <summary>
/// The console's gate: the operator of the session cookie, or the answer that sends the browser to
/// sign in; and the anti-forgery check of every form POST. A refused request changes nothing.
/// </summary>
public static partial class ConsoleSessionGate
{
    public const string CookieName = "sso_console_session";

    /// <summary>The signed-in operator, or (GET) a redirect to the sign-in page that comes back here, or (POST) the 401 page.</summary>
    public static async Task<Result<SignedInOperator, IResult>> OpenAsync(HttpContext context)
    {
        if (context.Request.Cookies[CookieName] is { Length: 43 } id
            && await context.RequestServices.GetRequiredService<ConsoleSessions>().OpenAsync(id, context.RequestAborted) is { } signedIn)
            return signedIn;
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            return Refused(ConsoleResults.SeeOther(ConsoleSignIn.Path + "?return=" + Uri.EscapeDataString(context.Request.Path + context.Request.QueryString)));
        return Refused(ConsoleResults.Refused(401, "Signed out", "Your console session has ended, so nothing was changed. Sign in again and repeat the change."));
    }

    /// <summary>
    /// Reads a console form and checks its anti-forgery token (and that it was posted from this
    /// service's pages); a failed check is the 403 page and nothing is changed.
    /// </summary>
    public static async Task<Result<IFormCollection, IResult>> ReadFormAsync(HttpContext context, SignedInOperator signedIn)
    {
        const string message = "This form did not come from the console, or the page is too old; nothing was changed. Reload the page and try again.";
        if (!context.Request.HasFormContentType) return FormRefused(ConsoleResults.Refused(403, "Request refused", message));
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return FormRefused(ConsoleResults.Refused(400, "Request refused", "The form could not be read (is it too large?)."));
        }
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        if (BrowserPages.IsSameOrigin(context.Request, options.PublicBaseUrl) && IsCsrfTokenValid(form, signedIn.CsrfToken))
            return Result<IFormCollection, IResult>.Success(form);
        LogFormRefused(Logger(context.RequestServices), signedIn.Operator.Id, context.Request.Path.Value ?? "");
        return FormRefused(ConsoleResults.Refused(403, "Request refused", message));
    }

    private static bool IsCsrfTokenValid(IFormCollection form, string expected) =>
        form[ConsoleLayout.CsrfFieldName].ToString() is { Length: > 0 } presented
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented));

    /// <summary>Sets the cookie of a session just started (<see cref="ConsoleSessions"/>) on the answer.</summary>
    public static Action<HttpResponse> SetCookie(HttpContext context, StartedConsoleSession started)
    {
        var secure = BrowserPages.IsHttps(context);
        return response => response.Cookies.Append(CookieName, started.Id, CookieOptions(secure, started.Session.ExpiresAt));
    }

    /// <summary>Ends the session: the row is deleted, the cookie cleared.</summary>
    public static async Task<Action<HttpResponse>> EndAsync(HttpContext context, SignedInOperator signedIn)
    {
        await context.RequestServices.GetRequiredService<ConsoleSessions>().EndAsync(signedIn.Session, context.RequestAborted);
        var secure = BrowserPages.IsHttps(context);
        return response => response.Cookies.Delete(CookieName, CookieOptions(secure, null));
    }

    private static CookieOptions CookieOptions(bool secure, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        // Secure whenever the service is on https (always in Azure); a local http run would otherwise get no cookie.
        Secure = secure,
        Path = ConsoleLayout.Base,
        Expires = expires,
        IsEssential = true,
    };

    // A user-defined conversion from an interface (IResult) does not exist in C#, so refusals are wrapped by name.
    private static Result<SignedInOperator, IResult> Refused(IResult page) => Result<SignedInOperator, IResult>.Failure(page);

    private static Result<IFormCollection, IResult> FormRefused(IResult page) => Result<IFormCollection, IResult>.Failure(page);

    private static ILogger Logger(IServiceProvider services) => services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.OperatorConsole");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console form refused: anti-forgery check failed (operator {OperatorId}, {Path})")]
    private static partial void LogFormRefused(ILogger logger, string operatorId, string path);
}

/// <summary>The console's answers: its pages, its refusals and its redirects, all under the console's security headers.</summary>
public static class ConsoleResults
{
    public static IResult Page(SignedInOperator signedIn, int status, string title, ConsoleSection section, string mainHtml, string? flashHtml = null) =>
        BrowserPages.Page(status, ConsoleLayout.Page(title, section, signedIn.Viewer, mainHtml, flashHtml));

    /// <summary>A page outside the session's shell: why the request was refused, and the way back.</summary>
    public static IResult Refused(int status, string title, string message) =>
        BrowserPages.Page(status, ConsoleLayout.Page(title, ConsoleSection.None, null,
            $"<p>{ConsoleLayout.E(message)}</p><p><a class=\"button\" href=\"{ConsoleSignIn.Path}\">Sign in</a> <a class=\"button secondary\" href=\"{ConsoleLayout.Base}\">Console home</a></p>"));

    public static IResult SeeOther(string location, Action<HttpResponse>? beforeWrite = null) => BrowserPages.SeeOther(location, beforeWrite);

    /// <summary>Audits a console change with the operator as actor (field names only, never values).</summary>
    public static Task AuditAsync(HttpContext context, SignedInOperator signedIn, string? tenantId, string action, AuditTarget? target,
        IReadOnlyList<string> changedFields, Problem? failure = null) =>
        context.RequestServices.GetRequiredService<AuditLog>().RecordChangeAsync(tenantId, signedIn.Operator, action, target, changedFields,
            failure is null ? "success" : "failure", failure?.Code, failure?.Status ?? 200);
}
