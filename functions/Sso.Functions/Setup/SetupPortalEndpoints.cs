using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Oidc;
using Sso.Functions.Saml;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Protocols.Saml;
using static Sso.Functions.Setup.SetupHtml;

namespace Sso.Functions.Setup;

/// <summary>
/// <c>/setup</c>: the wizard a customer's IT admin opens from a setup link (DESIGN.md §3.4). The
/// link is <c>/setup#secret</c>; the page hands the secret over once for a session cookie
/// (<see cref="SetupSession"/>), and the wizard's URLs carry no secret. Every state change is a
/// form POST checked by <see cref="SetupCsrf"/>; connections and directories are made through the
/// same code as the management API.
/// </summary>
public static partial class SetupPortalEndpoints
{
    private const string Base = "/setup";

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
            context => Task.FromResult(SetupAssets.Serve(context, SetupAssets.ScriptBytes, "text/javascript; charset=utf-8"))),
        new("SetupPortalStyles", "/setup/assets/portal.css", ["GET"],
            context => Task.FromResult(SetupAssets.Serve(context, SetupAssets.StyleBytes, "text/css; charset=utf-8"))),
    ];

    /// <summary>An open, usable link and what a page needs to render it.</summary>
    public sealed record Session(string Token, SetupLink Link, Tenant Tenant, string CsrfCookie, bool NewCookie)
    {
        public string Path(string rest) => Base + rest;
        public string Csrf => SetupCsrf.HiddenField(Link, CsrfCookie);
    }

    /// <summary>The link of the session cookie (or of <paramref name="token"/>), or the page that says why it cannot be used.</summary>
    public static async Task<(Session? Session, IResult? Refusal)> OpenAsync(HttpContext context, string? token = null)
    {
        token ??= SetupSession.Token(context.Request);
        if (token is null)
        {
            // A SameSite=Strict cookie is withheld from a navigation that a cross-site page (or a
            // redirect from one, e.g. the IdP's answer to Test sign-in) started; reloading the
            // same URL from our own page brings it.
            if (HttpMethods.IsGet(context.Request.Method) && context.Request.Headers["Sec-Fetch-Site"] == "cross-site")
                return (null, Continue(context.Request.Path + context.Request.QueryString));
            return (null, OpenLinkPage(403, "This browser has no open setup session, or it has ended. Open your setup link again, or paste it below."));
        }
        var services = context.RequestServices;
        var link = await services.GetRequiredService<SetupLinkStore>().FindByTokenAsync(token, context.RequestAborted);
        if (link is null)
        {
            LogLinkRefused(Logger(services), "unknown", "-", "-");
            return (null, Unusable(404, "Setup link not found", "This setup link is not valid. Check that you copied the whole link."));
        }
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        if (link.RevokedAt is not null || now >= link.ExpiresAt)
        {
            var revoked = link.RevokedAt is not null;
            LogLinkRefused(Logger(services), revoked ? "revoked" : "expired", link.TenantId.Value, link.Id);
            return (null, revoked
                ? Unusable(410, "Setup link revoked", "This setup link was revoked and can no longer be used.")
                : Unusable(410, "Setup link expired", "This setup link has expired."));
        }
        if (!link.TokenInFragment)
        {
            LogLinkRefused(Logger(services), "old-format", link.TenantId.Value, link.Id);
            return (null, Unusable(410, "Setup link replaced",
                "This setup link was issued in an older format, whose secret could reach server logs; it is no longer accepted."));
        }
        if (await services.GetRequiredService<TenantStore>().FindAsync(link.TenantId, context.RequestAborted) is not { } tenant)
            return (null, Unusable(404, "Setup link not found", "This setup link is not valid."));
        context.Items[RequestPipeline.TenantItem] = tenant.Id.Value;
        var (cookie, isNew) = SetupCsrf.CookieValue(context.Request);
        return (new Session(token, link, tenant, cookie, isNew), null);
    }

    private static bool IsHttps(HttpContext context) =>
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
    private static async Task<(IFormCollection? Form, IResult? Refusal)> ReadFormAsync(HttpContext context, Session session)
    {
        const string message = "This form did not come from the setup page, or the page is too old. Reload the setup page and try again.";
        if (!context.Request.HasFormContentType) return (null, Unusable(403, "Request refused", message));
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return (null, Result(400, Page("Request refused", null, null, "<p>The form could not be read (is it too large?).</p>")));
        }
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        if (SetupCsrf.IsValid(context.Request, form, session.Link, options.PublicBaseUrl)) return (form, null);
        LogFormRefused(Logger(context.RequestServices), session.Tenant.Id.Value, session.Link.Id);
        return (null, Unusable(403, "Request refused", message));
    }

    private static ILogger Logger(IServiceProvider services) => services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Setup");

    [LoggerMessage(Level = LogLevel.Information, Message = "Setup link refused: {Outcome} (tenant {TenantId}, link {LinkId})")]
    private static partial void LogLinkRefused(ILogger logger, string outcome, string tenantId, string linkId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Setup form refused: anti-forgery check failed (tenant {TenantId}, link {LinkId})")]
    private static partial void LogFormRefused(ILogger logger, string tenantId, string linkId);

    private static Task<SetupLink?> SaveLinkAsync(HttpContext context, SetupLink before, Func<SetupLink, SetupLink> change) =>
        context.RequestServices.GetRequiredService<SetupLinkStore>().UpdateAsync(before, change, context.RequestAborted);

    // ---- opening the link ----

    /// <summary>
    /// <c>GET /setup</c>: the page a setup link opens. Its script finds the secret in the fragment
    /// and posts it in the form below; without script the admin pastes the link into the form.
    /// </summary>
    private static IResult OpenLinkPage(int status, string? error)
    {
        var main = new StringBuilder();
        if (error is not null) main.Append(Alert("error", error));
        main.Append("<form method=\"post\" action=\"").Append(SetupSession.OpenPath).Append("\" id=\"open-link\" data-busy=\"Opening…\">")
            .Append("<label class=\"field\" for=\"link\">Setup link</label>")
            .Append("<input type=\"text\" id=\"link\" name=\"").Append(SetupSession.FieldName)
            .Append("\" required autocomplete=\"off\" spellcheck=\"false\" placeholder=\"Paste the whole link you received\">")
            .Append("<button type=\"submit\">Open</button></form>")
            .Append("<p class=\"muted\">The link's secret stays out of every web address this service receives: it is sent once, ")
            .Append("in this form, in exchange for a session of this browser that ends when the link expires or is revoked.</p>");
        return Result(status, Page("Open your setup link", null, null, main.ToString()));
    }

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
        var (session, refusal) = await OpenAsync(context, token);
        if (session is null) return refusal!;
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

    /// <summary>A page that loads <paramref name="pathAndQuery"/> again, now as a navigation from this site.</summary>
    private static IResult Continue(string pathAndQuery) =>
        Result(200, Page("Continuing…", null, null,
            $"<meta http-equiv=\"refresh\" content=\"0; url={E(pathAndQuery)}\"><p><a class=\"button\" href=\"{E(pathAndQuery)}\">Continue</a></p>"));

    // ---- step 1: the IdP ----

    private static async Task<IResult> IdpPageAsync(HttpContext context)
    {
        var (session, refusal) = await OpenAsync(context);
        if (session is null) return refusal!;
        return RenderIdpPage(context, session, 200, null);
    }

    private static IResult RenderIdpPage(HttpContext context, Session session, int status, string? error)
    {
        var link = session.Link;
        var main = new StringBuilder();
        if (error is not null) main.Append(Alert("error", error));
        main.Append("<p>This wizard connects <strong>").Append(E(session.Tenant.Name)).Append("</strong> to your identity provider");
        main.Append(link.Has(SetupFeatures.Sso) && link.Has(SetupFeatures.DirectorySync)
            ? " for single sign-on and directory sync (SCIM)."
            : link.Has(SetupFeatures.Sso) ? " for single sign-on." : " for directory sync (SCIM).");
        main.Append(" The link works until ").Append(E(link.ExpiresAt.ToString("yyyy-MM-dd HH:mm 'UTC'"))).Append(".</p>");
        main.Append("<form method=\"post\" action=\"").Append(E(session.Path("/idp"))).Append("\">").Append(session.Csrf)
            .Append("<fieldset class=\"idps\"><legend>Which identity provider do you use?</legend>");
        foreach (var guide in IdpGuides.All)
        {
            main.Append("<label><input type=\"radio\" name=\"idp\" value=\"").Append(E(guide.Id)).Append('"');
            if (guide.Id == link.Idp) main.Append(" checked");
            main.Append(" required>").Append(E(guide.Name)).Append("</label>");
        }
        main.Append("</fieldset><button type=\"submit\">Continue</button></form>");
        return Render(context, session, status, "Choose your identity provider", "idp", main.ToString());
    }

    private static async Task<IResult> ChooseIdpAsync(HttpContext context)
    {
        var (session, refusal) = await OpenAsync(context);
        if (session is null) return refusal!;
        var (form, forbidden) = await ReadFormAsync(context, session);
        if (form is null) return forbidden!;
        if (IdpGuides.Find(form["idp"].ToString()) is not { } guide)
            return RenderIdpPage(context, session, 422, "Choose one of the identity providers.");
        if (session.Link.ConnectionId is { } saved
            && await context.RequestServices.GetRequiredService<ConnectionStore>().FindAsync(session.Tenant.Id, saved, context.RequestAborted)
                is { } existing
            && existing.Type != guide.Protocol)
            return RenderIdpPage(context, session, 409,
                $"This link already has a connection of type {existing.Type.ToUpperInvariant()}; choose an identity provider that uses {existing.Type.ToUpperInvariant()}, or ask for a new link.");
        var chosen = await SaveLinkAsync(context, session.Link, link => link with
        {
            Idp = guide.Id,
            // The SAML URLs depend on the connection id, and the admin pastes them into the IdP
            // before there is metadata to create the connection from: reserve the id now.
            ConnectionId = link.ConnectionId ?? (guide.Protocol == "saml" ? ConnectionId.New() : null),
        });
        if (chosen is null) return RenderIdpPage(context, session, 409, "The setup changed in another window; choose again.");
        return SeeOther(session.Path(chosen.Has(SetupFeatures.Sso) ? "/sso" : "/dsync"));
    }

    // ---- step 2: single sign-on ----

    private static async Task<IResult> SsoPageAsync(HttpContext context)
    {
        var (session, refusal) = await OpenAsync(context);
        if (session is null) return refusal!;
        if (!session.Link.Has(SetupFeatures.Sso)) return NotInLink(context, session);
        if (IdpGuides.Find(session.Link.Idp) is null) return SeeOther(session.Path("/idp"));
        var notice = context.Request.Query["saved"] == "1" ? Alert("ok", "The connection is saved. Run Test sign-in to check it end to end.") : null;
        return await RenderSsoPageAsync(context, session, 200, notice, null);
    }

    private static async Task<IResult> RenderSsoPageAsync(HttpContext context, Session session, int status, string? noticeHtml, string? error)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<SsoOptions>();
        var guide = IdpGuides.Find(session.Link.Idp)!;
        var connection = session.Link.ConnectionId is { } connectionId
            ? await services.GetRequiredService<ConnectionStore>().FindAsync(session.Tenant.Id, connectionId, context.RequestAborted)
            : null;
        var main = new StringBuilder();
        if (error is not null) main.Append(Alert("error", error));
        if (noticeHtml is not null) main.Append(noticeHtml);

        main.Append("<h2>1. Values for ").Append(E(guide.Name)).Append("</h2>");
        if (guide.Protocol == "saml" && session.Link.ConnectionId is { } reserved)
        {
            main.Append(CopyValue("acs-url", "ACS URL", SamlServiceProviderUrls.AcsUrl(options, reserved), "Assertion Consumer Service (Reply / Single sign-on URL), HTTP-POST"))
                .Append(CopyValue("sp-entity-id", "SP entity ID", SamlServiceProviderUrls.EntityId(options, reserved), "Audience URI / Identifier"))
                .Append(CopyValue("sp-metadata-url", "SP metadata URL", SamlServiceProviderUrls.MetadataUrl(options, reserved),
                    connection is null ? "Answers once the connection is saved below." : null));
        }
        else
        {
            main.Append(CopyValue("redirect-uri", "Redirect URI", options.Url("/oidc/callback"), "Sign-in redirect URI (authorization code flow)"));
        }
        if (session.Link.Has(SetupFeatures.DirectorySync) && session.Link.DirectoryId is { } directoryId)
            main.Append(CopyValue("scim-base-url", "SCIM base URL", DirectoryEndpoints.ScimBaseUrl(options, directoryId)));

        main.Append("<h2>2. In ").Append(E(guide.Name)).Append("</h2><ol class=\"guide\">");
        foreach (var step in guide.SsoSteps) main.Append("<li>").Append(E(step)).Append("</li>");
        main.Append("</ol>");

        main.Append("<h2>3. ").Append(guide.Protocol == "saml" ? "Paste the IdP metadata" : "Paste the client details").Append("</h2>");
        main.Append("<form method=\"post\" action=\"").Append(E(session.Path("/sso"))).Append("\" data-busy=\"Checking…\">").Append(session.Csrf);
        if (guide.Protocol == "saml")
        {
            main.Append("<label class=\"field\" for=\"metadataUrl\">IdP metadata URL</label>")
                .Append("<input type=\"url\" id=\"metadataUrl\" name=\"metadataUrl\" placeholder=\"https://\" value=\"")
                .Append(E(connection?.ConfigString("idpMetadataUrl"))).Append("\">")
                .Append("<label class=\"field\" for=\"metadataXml\">or the IdP metadata XML</label>")
                .Append("<textarea id=\"metadataXml\" name=\"metadataXml\" spellcheck=\"false\" placeholder=\"&lt;md:EntityDescriptor …\"></textarea>");
        }
        else
        {
            main.Append("<label class=\"field\" for=\"issuer\">Issuer URL</label>")
                .Append("<input type=\"url\" id=\"issuer\" name=\"issuer\" required value=\"").Append(E(connection?.ConfigString("issuer"))).Append("\">")
                .Append("<label class=\"field\" for=\"clientId\">Client ID</label>")
                .Append("<input type=\"text\" id=\"clientId\" name=\"clientId\" required value=\"").Append(E(connection?.ConfigString("clientId"))).Append("\">")
                .Append("<label class=\"field\" for=\"clientSecret\">Client secret</label>")
                .Append("<input type=\"password\" id=\"clientSecret\" name=\"clientSecret\" autocomplete=\"off\"")
                .Append(connection is null ? " required" : " placeholder=\"(unchanged)\"").Append('>');
        }
        main.Append("<button type=\"submit\">").Append(connection is null ? "Save connection" : "Update connection").Append("</button></form>");

        if (connection is not null && ConnectionDomains.AssertsNothing(connection,
                await services.GetRequiredService<ConnectionStore>().ListAsync(session.Tenant.Id, context.RequestAborted)))
            main.Append(Alert("warn", "Another identity provider is connected for this organisation, so this one signs nobody in " +
                                      "until an administrator assigns it the email domains it may vouch for. Ask whoever sent this link."));
        if (connection is not null)
        {
            main.Append("<h2>4. Test sign-in</h2><p>Signs you in through ").Append(E(guide.Name))
                .Append(" and shows the attributes it sent and the role they map to. Nothing is signed in to the product.</p>")
                .Append("<a class=\"button\" id=\"test-sign-in\" href=\"").Append(E(session.Path("/test-sign-in"))).Append("\">Test sign-in</a>");
            main.Append(CertificateSummary(connection, services.GetRequiredService<TimeProvider>().GetUtcNow()));
        }
        return Render(context, session, status, "Set up single sign-on with " + guide.Name, "sso", main.ToString());
    }

    private static async Task<IResult> SaveSsoAsync(HttpContext context)
    {
        var (session, refusal) = await OpenAsync(context);
        if (session is null) return refusal!;
        var (form, forbidden) = await ReadFormAsync(context, session);
        if (form is null) return forbidden!;
        if (!session.Link.Has(SetupFeatures.Sso)) return NotInLink(context, session);
        if (IdpGuides.Find(session.Link.Idp) is not { } guide) return SeeOther(session.Path("/idp"));

        var body = new JsonObject();
        if (guide.Protocol == "saml")
        {
            var url = form["metadataUrl"].ToString().Trim();
            var xml = form["metadataXml"].ToString().Trim();
            if (url.Length > 0 && xml.Length > 0)
                return await RenderSsoPageAsync(context, session, 422, null, "Give either the metadata URL or the metadata XML, not both.");
            if (url.Length > 0) body["idpMetadataUrl"] = url;
            else if (xml.Length > 0) body["idpMetadataXml"] = xml;
            else return await RenderSsoPageAsync(context, session, 422, null, "Paste the IdP metadata URL or the metadata XML.");
        }
        else
        {
            foreach (var (field, member) in new[] { ("issuer", "issuer"), ("clientId", "clientId"), ("clientSecret", "clientSecret") })
                if (form[field].ToString().Trim() is { Length: > 0 } value) body[member] = value;
        }

        var services = context.RequestServices;
        var connections = services.GetRequiredService<ConnectionStore>();
        var existing = session.Link.ConnectionId is { } id
            ? await connections.FindAsync(session.Tenant.Id, id, context.RequestAborted)
            : null;
        if (existing is not null && existing.Type != guide.Protocol)
            return await RenderSsoPageAsync(context, session, 409, null,
                $"This link already has a connection of type {existing.Type.ToUpperInvariant()}; ask for a new link to switch protocols.");

        Result<Connection, Problem> saved;
        if (existing is null)
        {
            body["type"] = guide.Protocol;
            body["name"] = guide.Name + " (setup portal)";
            saved = await ConnectionEndpoints.CreateConnectionAsync(context, session.Tenant.Id, body,
                guide.Protocol == "saml" ? session.Link.ConnectionId : null, setupLinkId: session.Link.Id);
        }
        else
        {
            saved = await ConnectionEndpoints.UpdateConnectionAsync(context, session.Tenant.Id, existing.Id, body);
        }
        var action = existing is null ? "connection.create" : "connection.update";
        var changedFields = body.Select(member => member.Key).ToArray();
        if (!saved.IsSuccess)
        {
            await RecordChangeAsync(context, session, action, existing?.Id.Value ?? session.Link.ConnectionId?.Value, changedFields,
                "failure", saved.Error.Code);
            return await RenderSsoPageAsync(context, session, 422, null, saved.Error.Detail);
        }
        var connection = saved.Value;
        await RecordChangeAsync(context, session, action, connection.Id.Value, changedFields, "success", null);
        if (session.Link.ConnectionId != connection.Id
            && await SaveLinkAsync(context, session.Link, link => link with { ConnectionId = connection.Id }) is null)
            return await RenderSsoPageAsync(context, session, 409, null, "The setup changed in another window; reload the page.");
        return SeeOther(session.Path("/sso?saved=1"));
    }

    // ---- step 3: directory sync ----

    private static async Task<IResult> DirectoryPageAsync(HttpContext context)
    {
        var (session, refusal) = await OpenAsync(context);
        if (session is null) return refusal!;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);
        return RenderDirectoryPage(context, session, 200, null, null);
    }

    private static IResult RenderDirectoryPage(HttpContext context, Session session, int status, string? issuedToken, string? error,
        string? googleAuthorizeUrl = null)
    {
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        var guide = IdpGuides.Find(session.Link.Idp) ?? IdpGuides.Find("saml")!;
        var main = new StringBuilder();
        if (error is not null) main.Append(Alert("error", error));
        main.Append("<p>Directory sync lets ").Append(E(guide.Name))
            .Append(" create, update and deactivate users and groups here over SCIM 2.0.</p>");
        if (session.Link.DirectoryId is { } directoryId)
            main.Append(CopyValue("scim-base-url", "SCIM base URL", DirectoryEndpoints.ScimBaseUrl(options, directoryId)));
        if (issuedToken is not null)
        {
            main.Append(Alert("warn", "Copy the SCIM token now: it is shown only once. Issuing another token does not revoke this one."))
                .Append("<div class=\"secret\">").Append(CopyValue("scim-token", "SCIM token", issuedToken)).Append("</div>");
        }
        main.Append("<h2>In ").Append(E(guide.Name)).Append("</h2><ol class=\"guide\">");
        foreach (var step in guide.ScimSteps) main.Append("<li>").Append(E(step)).Append("</li>");
        main.Append("</ol>");
        main.Append("<form method=\"post\" action=\"").Append(E(session.Path("/dsync/token"))).Append("\">").Append(session.Csrf)
            .Append("<button type=\"submit\" id=\"issue-scim-token\">")
            .Append(session.Link.DirectoryId is null ? "Create the directory and issue a SCIM token" : "Issue a new SCIM token")
            .Append("</button></form>");
        if (guide.Id == "google" || googleAuthorizeUrl is not null)
        {
            main.Append("<h2>Google Workspace (no SCIM)</h2><p>Google Workspace provisions over SCIM only to apps in its catalogue. ")
                .Append("Instead, a Google Workspace super admin can let this service read users and groups (read only) from Google's Directory API.</p>");
            if (googleAuthorizeUrl is not null)
                main.Append("<p><a class=\"button\" id=\"google-authorize\" href=\"").Append(E(googleAuthorizeUrl))
                    .Append("\">Authorize in Google Workspace</a></p>");
            else
                main.Append("<form method=\"post\" action=\"").Append(E(session.Path("/dsync/google"))).Append("\">").Append(session.Csrf)
                    .Append("<button type=\"submit\" id=\"google-directory\">Sync Google Workspace (no SCIM)</button></form>");
        }
        return Render(context, session, status, "Set up directory sync", "dsync", main.ToString());
    }

    private static async Task<IResult> IssueScimTokenAsync(HttpContext context)
    {
        var (session, refusal) = await OpenAsync(context);
        if (session is null) return refusal!;
        var (form, forbidden) = await ReadFormAsync(context, session);
        if (form is null) return forbidden!;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);

        var services = context.RequestServices;
        var store = services.GetRequiredService<DirectoryStore>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var (plaintext, hash) = DirectoryEndpoints.NewToken();
        var directory = session.Link.DirectoryId is { } existingId ? await store.FindDirectoryAsync(existingId, context.RequestAborted) : null;
        var link = session.Link;
        if (directory is null || directory.TenantId != session.Tenant.Id)
        {
            var guide = IdpGuides.Find(link.Idp);
            directory = new DirectoryRecord(DirectoryId.New(), session.Tenant.Id, (guide?.Name ?? "Directory") + " (setup portal)",
                guide?.DirectoryProvider ?? "generic", now);
            // Order: the directory (with its first token), then the link row that points at it;
            // a failure in between leaves a directory that the management API still lists.
            var firstToken = new DirectoryToken(directory.Id, Ids.New("tok_"), "setup portal", hash, now, null, CreatedBy: SetupActor(link));
            await store.CreateDirectoryAsync(directory, firstToken, context.RequestAborted);
            await RecordChangeAsync(context, session, "directory.create", directory.Id.Value, ["name", "provider"], "success", null);
            var saved = await SaveLinkAsync(context, link, l => l with { DirectoryId = directory.Id });
            if (saved is null) return RenderDirectoryPage(context, session, 409, null, "The setup changed in another window; reload the page.");
            link = saved;
        }
        else
        {
            if ((await store.ListTokensAsync(directory.Id, context.RequestAborted)).Count >= DirectoryEndpoints.MaxTokensPerDirectory)
                return RenderDirectoryPage(context, session, 422, null,
                    $"The directory already has {DirectoryEndpoints.MaxTokensPerDirectory} tokens; ask your vendor to revoke unused ones.");
            await store.AddTokenAsync(new DirectoryToken(directory.Id, Ids.New("tok_"), "setup portal", hash, now, null, CreatedBy: SetupActor(link)),
                context.RequestAborted);
            await RecordChangeAsync(context, session, "directory_token.create", directory.Id.Value, ["name"], "success", null);
        }
        // 200, not a redirect: the token must not travel in a URL or be shown again on reload.
        return RenderDirectoryPage(context, session with { Link = link }, 200, plaintext, null);
    }

    /// <summary>
    /// The Google Workspace directory (pulled through the Directory API): created once for the link,
    /// then a fresh authorization link for the customer's Google admin, shown on the page (not a
    /// redirect: the form's CSP allows posting only to this service).
    /// </summary>
    private static async Task<IResult> AuthorizeGoogleDirectoryAsync(HttpContext context)
    {
        var (session, refusal) = await OpenAsync(context);
        if (session is null) return refusal!;
        var (form, forbidden) = await ReadFormAsync(context, session);
        if (form is null) return forbidden!;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);
        var services = context.RequestServices;
        if (services.GetServices<IDirectoryAuthorization>().FirstOrDefault(a => a.Provider == DirectoryProviders.GoogleDirectory) is not { Unavailable: null } authorization)
            return RenderDirectoryPage(context, session, 422, null, "Google Workspace sync is not set up by your vendor; use SCIM, or ask them.");
        var store = services.GetRequiredService<DirectoryStore>();
        var directory = session.Link.DirectoryId is { } existingId ? await store.FindDirectoryAsync(existingId, context.RequestAborted) : null;
        var link = session.Link;
        if (directory is null || directory.TenantId != session.Tenant.Id || directory.Provider != DirectoryProviders.GoogleDirectory)
        {
            directory = new DirectoryRecord(DirectoryId.New(), session.Tenant.Id, "Google Workspace (setup portal)", DirectoryProviders.GoogleDirectory,
                services.GetRequiredService<TimeProvider>().GetUtcNow());
            await store.CreatePulledDirectoryAsync(directory, new DirectorySyncState(directory.Id, DirectorySyncState.NeedsAuthorization),
                context.RequestAborted);
            await RecordChangeAsync(context, session, "directory.create", directory.Id.Value, ["name", "provider"], "success", null);
            var saved = await SaveLinkAsync(context, link, l => l with { DirectoryId = directory.Id });
            if (saved is null) return RenderDirectoryPage(context, session, 409, null, "The setup changed in another window; reload the page.");
            link = saved;
        }
        var url = await authorization.StartAsync(directory, context.RequestAborted);
        return RenderDirectoryPage(context, session with { Link = link }, 200, null, null, url);
    }

    // ---- step 4: status ----

    private static async Task<IResult> StatusPageAsync(HttpContext context)
    {
        var (session, refusal) = await OpenAsync(context);
        if (session is null) return refusal!;
        var services = context.RequestServices;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var main = new StringBuilder();

        if (session.Link.Has(SetupFeatures.Sso))
        {
            var connections = await services.GetRequiredService<ConnectionStore>().ListAsync(session.Tenant.Id, context.RequestAborted);
            main.Append("<h2>Single sign-on</h2>");
            if (connections.Count == 0) main.Append("<p>No connection is set up yet.</p>");
            foreach (var connection in connections)
            {
                main.Append("<section class=\"connection\" id=\"").Append(E(connection.Id.Value)).Append("\"><h3>")
                    .Append(E(connection.Name ?? connection.Id.Value)).Append(" <span class=\"badge ok\">active</span></h3>")
                    .Append("<p class=\"muted\">").Append(E(connection.Type.ToUpperInvariant())).Append(" · ")
                    .Append(E(connection.ConfigString("idpEntityId") ?? connection.ConfigString("issuer"))).Append(" · created ")
                    .Append(E(connection.CreatedAt.ToString("yyyy-MM-dd"))).Append("</p>")
                    .Append(CertificateSummary(connection, now)).Append("</section>");
            }
        }
        if (session.Link.Has(SetupFeatures.DirectorySync))
        {
            var store = services.GetRequiredService<DirectoryStore>();
            var directories = await store.ListDirectoriesOfTenantAsync(session.Tenant.Id, context.RequestAborted);
            main.Append("<h2>Directory sync</h2>");
            if (directories.Count == 0) main.Append("<p>No directory is set up yet.</p>");
            foreach (var directory in directories)
            {
                var tokens = await store.ListTokensAsync(directory.Id, context.RequestAborted);
                var lastUsed = tokens.Max(t => t.LastUsedAt);
                var users = await CountAsync(store.QueryUsersAsync(directory.Id, includeDeleted: false, context.RequestAborted));
                var groups = await CountAsync(store.QueryGroupsAsync(directory.Id, context.RequestAborted));
                main.Append("<section class=\"directory\" id=\"").Append(E(directory.Id.Value)).Append("\"><h3>").Append(E(directory.Name)).Append("</h3><table>")
                    .Append("<tr><th>Last SCIM request</th><td id=\"last-scim-request\">")
                    .Append(lastUsed is { } at ? E(at.ToString("yyyy-MM-dd HH:mm 'UTC'")) : "never").Append("</td></tr>")
                    .Append("<tr><th>Users</th><td id=\"user-count\">").Append(users).Append("</td></tr>")
                    .Append("<tr><th>Groups</th><td id=\"group-count\">").Append(groups).Append("</td></tr>")
                    .Append("<tr><th>SCIM tokens</th><td>").Append(tokens.Count).Append("</td></tr></table></section>");
            }
        }
        await AppendRecentActivityAsync(context, session, main);
        return Render(context, session, 200, "Status", "status", main.ToString());
    }

    private const int RecentActivityRows = 50;

    /// <summary>
    /// The tenant's last sign-in attempts and SCIM requests from the audit trail, with their reasons,
    /// so the IT admin can see why Okta's push or a colleague's sign-in failed without a support ticket.
    /// </summary>
    private static async Task AppendRecentActivityAsync(HttpContext context, Session session, StringBuilder main)
    {
        var audit = context.RequestServices.GetRequiredService<AuditStore>();
        var partition = session.Tenant.Id.Value;
        if (session.Link.Has(SetupFeatures.Sso))
        {
            var (rows, _) = await audit.ReadAsync(partition, AuditTypes.SignInAttempt, null, RecentActivityRows, context.RequestAborted);
            main.Append("<h2>Recent sign-in attempts</h2>");
            AppendActivityTable(main, "recent-sign-ins", ["Time", "Result", "Reason", "Email domain", "Connection"], rows,
                row => [Text(row, "result"), Text(row, "reason"), Text(row, "emailDomain"), Text(row, "connectionId")]);
        }
        if (session.Link.Has(SetupFeatures.DirectorySync))
        {
            var (rows, _) = await audit.ReadAsync(partition, AuditTypes.ScimRequest, null, RecentActivityRows, context.RequestAborted);
            main.Append("<h2>Recent SCIM requests</h2>");
            AppendActivityTable(main, "recent-scim-requests", ["Time", "Request", "Status", "Reason", "Duration"], rows,
                row => [Text(row, "method") + " " + Text(row, "path"), Text(row, "status"), Text(row, "reason"), Text(row, "durationMs") + " ms"]);
        }
    }

    private static void AppendActivityTable(StringBuilder main, string id, string[] headings, IReadOnlyList<JsonObject> rows,
        Func<JsonObject, string[]> cells)
    {
        if (rows.Count == 0)
        {
            main.Append("<p class=\"muted\" id=\"").Append(id).Append("\">Nothing recorded yet.</p>");
            return;
        }
        main.Append("<table class=\"activity\" id=\"").Append(id).Append("\"><tr>");
        foreach (var heading in headings) main.Append("<th>").Append(E(heading)).Append("</th>");
        main.Append("</tr>");
        foreach (var row in rows)
        {
            main.Append("<tr").Append(Text(row, "result") == "failure" ? " class=\"failure\"" : "").Append("><td>")
                .Append(E(DateTimeOffset.TryParse(Text(row, "occurredAt"), System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at.ToString("yyyy-MM-dd HH:mm:ss 'UTC'") : ""))
                .Append("</td>");
            foreach (var cell in cells(row)) main.Append("<td>").Append(E(cell)).Append("</td>");
            main.Append("</tr>");
        }
        main.Append("</table>");
    }

    private static string Text(JsonObject row, string name) => row[name]?.ToString() ?? "";

    // The status page counts rows; past this it says "10000+" rather than read a huge directory.
    private const int MaxCounted = 10_000;

    private static async Task<string> CountAsync<T>(IAsyncEnumerable<T> rows)
    {
        var count = 0;
        await foreach (var _ in rows)
            if (++count >= MaxCounted) return MaxCounted + "+";
        return count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The IdP signing certificates of a SAML connection, flagged when they expire within 30 days.</summary>
    public static string CertificateSummary(Connection connection, DateTimeOffset now)
    {
        if (connection.Type != ConnectionTypes.Saml) return "";
        var html = new StringBuilder("<table class=\"certificates\"><tr><th>IdP signing certificate</th><th>Expires</th></tr>");
        foreach (var certificate in CertificateExpiry.Check(SamlConnectionSetup.IdpCertificates(connection), now,
                     CertificateExpiry.DefaultWindow))
        {
            var days = (int)Math.Ceiling((certificate.NotAfter - now).TotalDays);
            var (badge, label) = certificate.Expired ? ("bad", "expired")
                : certificate.ExpiresSoon ? ("warn", $"expires soon (in {days} day{(days == 1 ? "" : "s")})")
                : ("ok", "valid");
            html.Append("<tr><td><code>").Append(E(certificate.Subject)).Append("</code><br><span class=\"muted thumbprint\">SHA-256 ")
                .Append(E(certificate.Thumbprint)).Append("</span></td><td class=\"expiry\">")
                .Append(E(certificate.NotAfter.ToString("yyyy-MM-dd"))).Append(" <span class=\"badge ").Append(badge).Append("\">").Append(label)
                .Append("</span></td></tr>");
        }
        return html.Append("</table>").ToString();
    }

    private static string SetupActor(SetupLink link) => "setup_link:" + link.Id;

    /// <summary>A change made through the portal, in the audit trail with the setup link as the actor.</summary>
    private static Task RecordChangeAsync(HttpContext context, Session session, string action, string? connectionOrDirectoryId,
        IReadOnlyList<string> changedFields, string result, string? reason)
    {
        var kind = action.StartsWith("connection", StringComparison.Ordinal) ? "connection" : "directory";
        return context.RequestServices.GetRequiredService<AuditLog>().RecordChangeAsync(session.Tenant.Id.Value,
            AuditActor.SetupLink(session.Link.Id), action,
            connectionOrDirectoryId is null ? null : new AuditTarget(kind, connectionOrDirectoryId), changedFields, result, reason);
    }

    private static IResult NotInLink(HttpContext context, Session session) =>
        Render(context, session, 404, "Not part of this link", "", "<p>This setup link does not include that step.</p>");
}
