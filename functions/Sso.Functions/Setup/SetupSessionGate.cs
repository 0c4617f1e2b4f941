using Sso.Functions.Hosting;
using Sso.Functions.Tenants;
using static Sso.Functions.Setup.SetupHtml;

namespace Sso.Functions.Setup;

/// <summary>
/// The portal's gate: the session cookie's link, opened by <see cref="SetupSessions"/>, or the page that says why not;
/// and the anti-forgery check of every form POST (<see cref="SetupCsrf"/>).
/// </summary>
public static partial class SetupSessionGate
{
    /// <summary>An open, usable link and what a page needs to render it.</summary>
    public sealed record Session(string Token, SetupLink Link, Tenant Tenant, string CsrfCookie, bool NewCookie)
    {
        public string Path(string rest) => SetupPortalEndpoints.Base + rest;
        public string Csrf => SetupCsrf.HiddenField(Link, CsrfCookie);
    }

    /// <summary>The link of the session cookie (or of <paramref name="token"/>), or the page that says why it cannot be used.</summary>
    public static async Task<Sso.Protocols.Result<Session, IResult>> OpenAsync(HttpContext context, string? token = null)
    {
        token ??= SetupSession.Token(context.Request);
        if (token is null)
        {
            // A SameSite=Strict cookie is withheld from a navigation that a cross-site page (or a
            // redirect from one, e.g. the IdP's answer to Test sign-in) started; reloading the
            // same URL from our own page brings it.
            if (HttpMethods.IsGet(context.Request.Method) && context.Request.Headers["Sec-Fetch-Site"] == "cross-site")
                return Refused(SetupPortalEndpoints.Continue(context.Request.Path + context.Request.QueryString));
            return Refused(SetupPortalEndpoints.OpenLinkPage(403, "This browser has no open setup session, or it has ended. Open your setup link again, or paste it below."));
        }
        var opened = await context.RequestServices.GetRequiredService<SetupSessions>().OpenAsync(token, context.RequestAborted);
        if (!opened.TryGetValue(out var usable, out var refused))
            return Refused(refused switch
            {
                SetupLinkRefusal.Unknown => Unusable(404, "Setup link not found", "This setup link is not valid. Check that you copied the whole link."),
                SetupLinkRefusal.Revoked => Unusable(410, "Setup link revoked", "This setup link was revoked and can no longer be used."),
                SetupLinkRefusal.Expired => Unusable(410, "Setup link expired", "This setup link has expired."),
                SetupLinkRefusal.OldFormat => Unusable(410, "Setup link replaced",
                    "This setup link was issued in an older format, whose secret could reach server logs; it is no longer accepted."),
                _ => Unusable(404, "Setup link not found", "This setup link is not valid."),
            });
        var (link, tenant) = usable;
        context.Items[RequestPipeline.TenantItem] = tenant.Id.Value;
        var (cookie, isNew) = SetupCsrf.CookieValue(context.Request);
        return new Session(token, link, tenant, cookie, isNew);
    }

    // A user-defined conversion from an interface (IResult) does not exist in C#, so refusals are wrapped by name.
    private static Sso.Protocols.Result<Session, IResult> Refused(IResult page) => Sso.Protocols.Result<Session, IResult>.Failure(page);

    private static Sso.Protocols.Result<IFormCollection, IResult> FormRefused(IResult page) =>
        Sso.Protocols.Result<IFormCollection, IResult>.Failure(page);

    public static bool IsHttps(HttpContext context) =>
        context.Request.IsHttps || context.RequestServices.GetRequiredService<SsoOptions>().PublicBaseUrl.Scheme == Uri.UriSchemeHttps;

    public static IResult Render(HttpContext context, Session session, int status, string title, string current, string main) =>
        Result(status, Page(title, session.Tenant.Name, new Nav(session.Link, current), main), response =>
        {
            if (session.NewCookie) SetupCsrf.SetCookie(response, session.CsrfCookie, IsHttps(context));
        });

    /// <summary>
    /// Reads a portal form and checks its anti-forgery token; a failed check is the 403 page and
    /// nothing is changed.
    /// </summary>
    public static async Task<Sso.Protocols.Result<IFormCollection, IResult>> ReadFormAsync(HttpContext context, Session session)
    {
        const string message = "This form did not come from the setup page, or the page is too old. Reload the setup page and try again.";
        if (!context.Request.HasFormContentType) return FormRefused(Unusable(403, "Request refused", message));
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return FormRefused(Result(400, Page("Request refused", null, null, "<p>The form could not be read (is it too large?).</p>")));
        }
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        if (SetupCsrf.IsValid(context.Request, form, session.Link, options.PublicBaseUrl)) return Sso.Protocols.Result<IFormCollection, IResult>.Success(form);
        LogFormRefused(Logger(context.RequestServices), session.Tenant.Id.Value, session.Link.Id);
        return FormRefused(Unusable(403, "Request refused", message));
    }

    private static ILogger Logger(IServiceProvider services) => services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Setup");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Setup form refused: anti-forgery check failed (tenant {TenantId}, link {LinkId})")]
    private static partial void LogFormRefused(ILogger logger, string tenantId, string linkId);
}
