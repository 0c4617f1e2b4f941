using Sso.Functions.Hosting;
using static Sso.Functions.Setup.SetupHtml;
using static Sso.Functions.Setup.SetupSessionGate;

namespace Sso.Functions.Setup;

/// <summary>
/// <c>/setup</c>: the wizard a customer's IT admin opens from a setup link (DESIGN.md §3.4). The
/// link is <c>/setup#secret</c>; the page hands the secret over once for a session cookie
/// (<see cref="SetupSession"/>), and the wizard's URLs carry no secret. Every state change is a
/// form POST checked by <see cref="SetupCsrf"/>. The handlers here pass the
/// <see cref="SetupSessionGate"/>, call one <see cref="SetupPortal"/> operation (which uses the same
/// operations as the management API) and render a <see cref="SetupPages"/> page.
/// </summary>
public static class SetupPortalEndpoints
{
    internal const string Base = "/setup";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("SetupPortalOpen", Base, ["GET"], context => Task.FromResult(OpenLinkPage(200, null))),
        new("SetupPortalOpenSession", SetupSession.OpenPath, ["POST"], OpenSessionAsync),
        new("SetupPortalLegacyLink", Base + "/{token}/{*rest}", ["GET", "POST"], context => Task.FromResult(LegacyLink(context))),
        new("SetupPortal", Base + "/idp", ["GET"], IdpPageAsync),
        new("SetupPortalChooseIdp", Base + "/idp", ["POST"], ChooseIdpAsync),
        new("SetupPortalSso", Base + "/sso", ["GET"], SsoPageAsync),
        new("SetupPortalSaveSso", Base + "/sso", ["POST"], SaveSsoAsync),
        new("SetupPortalDirectory", Base + "/dsync", ["GET"], DirectoryPageAsync),
        new("SetupPortalIssueScimToken", Base + "/dsync/token", ["POST"], IssueScimTokenAsync),
        new("SetupPortalGoogleDirectory", Base + "/dsync/google", ["POST"], AuthorizeGoogleDirectoryAsync),
        new("SetupPortalStatus", Base + "/status", ["GET"], StatusPageAsync),
        new("SetupPortalTestSignIn", Base + "/test-sign-in", ["GET"], SetupTestSignIn.StartAsync),
        new("SetupPortalTestCallback", "/setup/test-callback", ["GET"], SetupTestSignIn.CallbackAsync),
        new("SetupPortalTestResult", Base + "/test-result", ["GET"], SetupTestSignIn.ResultPageAsync),
        new("SetupPortalScript", "/setup/assets/portal.js", ["GET"],
            _ => Task.FromResult(BrowserPages.Asset(SetupAssets.ScriptBytes, "text/javascript; charset=utf-8"))),
        new("SetupPortalStyles", "/setup/assets/portal.css", ["GET"],
            _ => Task.FromResult(BrowserPages.Asset(SetupAssets.StyleBytes, "text/css; charset=utf-8"))),
    ];

    // ---- opening the link ----

    /// <summary><c>POST /setup/session</c>: exchanges a link's secret (form field) for the session cookie.</summary>
    private static async Task<IResult> OpenSessionAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        // Only our own page may open a session: another site must not sign a browser in to its link.
        if (!context.Request.HasFormContentType || !SetupCsrf.IsSameOrigin(context.Request, options.PublicBaseUrl))
            return Unusable(403, "Request refused", "This request did not come from the setup page. Open your setup link again.");
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return OpenLinkPage(400, "The form could not be read.");
        }
        if (form[SetupSession.FieldName].ToString() is not { Length: > 0 and <= 2000 } pasted)
            return OpenLinkPage(422, "Paste the whole setup link you received.");
        var token = SetupSession.SecretOf(pasted);
        if (!(await OpenAsync(context, token)).TryGetValue(out var session, out var refusal)) return refusal;
        SetupSession.SetCookie(context.Response, token, session.Link.ExpiresAt, IsHttps(context));
        return SeeOther(session.Path("/idp"));
    }

    /// <summary>
    /// <c>/setup/{token}/...</c>, the link form used before the secret moved to the fragment. The
    /// host has already recorded this path, so the secret is not looked up (nor logged by us);
    /// links of that form were marked and are refused in the new form too.
    /// </summary>
    private static IResult LegacyLink(HttpContext context) =>
        Unusable(404, "Setup link not valid",
            "This setup link is not valid: links of the form /setup/<secret> are no longer accepted, because their secret reaches server logs.");

    /// <summary>
    /// <c>GET /setup</c>: the page a setup link opens. Its script finds the secret in the fragment
    /// and posts it in the form below; without script the admin pastes the link into the form.
    /// </summary>
    internal static IResult OpenLinkPage(int status, string? error) =>
        Result(status, Page("Open your setup link", null, null, SetupPages.OpenLink(error)));

    /// <summary>A page that loads <paramref name="pathAndQuery"/> again, now as a navigation from this site.</summary>
    internal static IResult Continue(string pathAndQuery) =>
        Result(200, Page("Continuing…", null, null,
            $"<meta http-equiv=\"refresh\" content=\"0; url={E(pathAndQuery)}\"><p><a class=\"button\" href=\"{E(pathAndQuery)}\">Continue</a></p>"));

    // ---- step 1: the IdP ----

    private static async Task<IResult> IdpPageAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        return RenderIdpPage(context, session, 200, null);
    }

    private static IResult RenderIdpPage(HttpContext context, Session session, int status, string? error) =>
        Render(context, session, status, "Choose your identity provider", "idp", SetupPages.Idp(session, error));

    private static async Task<IResult> ChooseIdpAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!(await ReadFormAsync(context, session)).TryGetValue(out var form, out var forbidden)) return forbidden;
        var chosen = await Portal(context).ChooseIdpAsync(session.Link, form["idp"].ToString(), context.RequestAborted);
        if (!chosen.IsSuccess) return RenderIdpPage(context, session, StatusOf(chosen.Error), chosen.Error.Message);
        return SeeOther(session.Path(chosen.Value.Has(SetupFeatures.Sso) ? "/sso" : "/dsync"));
    }

    // ---- step 2: single sign-on ----

    private static async Task<IResult> SsoPageAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!session.Link.Has(SetupFeatures.Sso)) return NotInLink(context, session);
        if (IdpGuides.Find(session.Link.Idp) is null) return SeeOther(session.Path("/idp"));
        var notice = context.Request.Query["saved"] == "1" ? Alert("ok", "The connection is saved. Run Test sign-in to check it end to end.") : null;
        return await RenderSsoPageAsync(context, Portal(context), session, 200, notice, null);
    }

    private static async Task<IResult> RenderSsoPageAsync(HttpContext context, SetupPortal portal, Session session, int status,
        string? noticeHtml, string? error)
    {
        var page = (await portal.SsoPageAsync(session.Link, context.RequestAborted))!;
        var main = SetupPages.Sso(session, page.Guide, portal.Options, page.Connection, page.AssertsNothing, page.Now, noticeHtml, error);
        return Render(context, session, status, "Set up single sign-on with " + page.Guide.Name, "sso", main);
    }

    private static async Task<IResult> SaveSsoAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!(await ReadFormAsync(context, session)).TryGetValue(out var form, out var forbidden)) return forbidden;
        if (!session.Link.Has(SetupFeatures.Sso)) return NotInLink(context, session);
        if (IdpGuides.Find(session.Link.Idp) is not { } guide) return SeeOther(session.Path("/idp"));
        var portal = Portal(context);
        // A checkbox sends nothing when unticked: the form always says which it is.
        var fields = new SetupSsoForm(form["metadataUrl"].ToString(), form["metadataXml"].ToString(), form["issuer"].ToString(),
            form["clientId"].ToString(), form["clientSecret"].ToString(), form["allowUnverifiedEmail"].ToString() == "true");
        var saved = await portal.SaveSsoAsync(session.Tenant, session.Link, guide, fields, context.RequestAborted);
        if (!saved.IsSuccess) return await RenderSsoPageAsync(context, portal, session, StatusOf(saved.Error), null, saved.Error.Message);
        return SeeOther(session.Path("/sso?saved=1"));
    }

    // ---- step 3: directory sync ----

    private static async Task<IResult> DirectoryPageAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);
        return RenderDirectoryPage(context, session, 200, null, null);
    }

    private static IResult RenderDirectoryPage(HttpContext context, Session session, int status, string? issuedToken, string? error,
        string? googleAuthorizeUrl = null) =>
        Render(context, session, status, "Set up directory sync", "dsync",
            SetupPages.Directory(session, Portal(context).Options, issuedToken, error, googleAuthorizeUrl));

    private static async Task<IResult> IssueScimTokenAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!(await ReadFormAsync(context, session)).TryGetValue(out _, out var forbidden)) return forbidden;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);
        var issued = await Portal(context).IssueScimTokenAsync(session.Link, context.RequestAborted);
        if (!issued.IsSuccess) return RenderDirectoryPage(context, session, StatusOf(issued.Error), null, issued.Error.Message);
        // 200, not a redirect: the token must not travel in a URL or be shown again on reload.
        return RenderDirectoryPage(context, session with { Link = issued.Value.Link }, 200, issued.Value.Plaintext, null);
    }

    /// <summary>
    /// The Google Workspace directory: the authorization link is shown on the page (not a
    /// redirect: the form's CSP allows posting only to this service).
    /// </summary>
    private static async Task<IResult> AuthorizeGoogleDirectoryAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!(await ReadFormAsync(context, session)).TryGetValue(out _, out var forbidden)) return forbidden;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);
        var authorized = await Portal(context).AuthorizeGoogleDirectoryAsync(session.Link, context.RequestAborted);
        if (!authorized.IsSuccess) return RenderDirectoryPage(context, session, StatusOf(authorized.Error), null, authorized.Error.Message);
        return RenderDirectoryPage(context, session with { Link = authorized.Value.Link }, 200, null, null, authorized.Value.Url);
    }

    // ---- step 4: status ----

    private static async Task<IResult> StatusPageAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        var status = await Portal(context).StatusAsync(session.Link, context.RequestAborted);
        return Render(context, session, 200, "Status", "status",
            SetupPages.Status(status.Connections, status.Directories, status.SignIns, status.ScimRequests, status.Now));
    }

    private static SetupPortal Portal(HttpContext context) => context.RequestServices.GetRequiredService<SetupPortal>();

    private static int StatusOf(SetupRefusal refusal) => refusal.IsConflict ? 409 : 422;

    private static IResult NotInLink(HttpContext context, Session session) =>
        Render(context, session, 404, "Not part of this link", "", "<p>This setup link does not include that step.</p>");
}
