using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using static Sso.Functions.Setup.SetupHtml;
using static Sso.Functions.Setup.SetupSessionGate;

namespace Sso.Functions.Setup;

/// <summary>
/// <c>/setup</c>: the wizard a customer's IT admin opens from a setup link (DESIGN.md §3.4). The
/// link is <c>/setup#secret</c>; the page hands the secret over once for a session cookie
/// (<see cref="SetupSession"/>), and the wizard's URLs carry no secret. Every state change is a
/// form POST checked by <see cref="SetupCsrf"/>. The handlers here pass the
/// <see cref="SetupSessionGate"/>, call the same operations as the management API
/// (<see cref="ConnectionSetup"/>, <see cref="DirectoryProvisioning"/>) and render a
/// <see cref="SetupPages"/> page.
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

    private static Task<SetupLink?> SaveLinkAsync(HttpContext context, SetupLink before, Func<SetupLink, SetupLink> change) =>
        context.RequestServices.GetRequiredService<SetupLinkStore>().UpdateAsync(before, change, context.RequestAborted);

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
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
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
        var assertsNothing = connection is not null && ConnectionDomains.AssertsNothing(connection,
            await services.GetRequiredService<ConnectionStore>().ListAsync(session.Tenant.Id, context.RequestAborted));
        var main = SetupPages.Sso(session, guide, options, connection, assertsNothing, services.GetRequiredService<TimeProvider>().GetUtcNow(),
            noticeHtml, error);
        return Render(context, session, status, "Set up single sign-on with " + guide.Name, "sso", main);
    }

    private static async Task<IResult> SaveSsoAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!(await ReadFormAsync(context, session)).TryGetValue(out var form, out var forbidden)) return forbidden;
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
            // A checkbox sends nothing when unticked: the form always says which it is.
            body["allowUnverifiedEmail"] = form["allowUnverifiedEmail"].ToString() == "true";
        }

        var services = context.RequestServices;
        var connections = services.GetRequiredService<ConnectionStore>();
        var existing = session.Link.ConnectionId is { } id
            ? await connections.FindAsync(session.Tenant.Id, id, context.RequestAborted)
            : null;
        if (existing is not null && existing.Type != guide.Protocol)
            return await RenderSsoPageAsync(context, session, 409, null,
                $"This link already has a connection of type {existing.Type.ToUpperInvariant()}; ask for a new link to switch protocols.");

        var setup = services.GetRequiredService<ConnectionSetup>();
        Result<Connection, Problem> saved;
        if (existing is null)
        {
            body["type"] = guide.Protocol;
            body["name"] = guide.Name + " (setup portal)";
            saved = await setup.CreateAsync(session.Tenant, body, context.RequestAborted,
                guide.Protocol == "saml" ? session.Link.ConnectionId : null, setupLinkId: session.Link.Id);
        }
        else
        {
            saved = await setup.UpdateAsync(session.Tenant.Id, existing.Id, body, context.RequestAborted);
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
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);
        return RenderDirectoryPage(context, session, 200, null, null);
    }

    private static IResult RenderDirectoryPage(HttpContext context, Session session, int status, string? issuedToken, string? error,
        string? googleAuthorizeUrl = null) =>
        Render(context, session, status, "Set up directory sync", "dsync",
            SetupPages.Directory(session, context.RequestServices.GetRequiredService<SsoOptions>(), issuedToken, error, googleAuthorizeUrl));

    private static async Task<IResult> IssueScimTokenAsync(HttpContext context)
    {
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!(await ReadFormAsync(context, session)).TryGetValue(out var form, out var forbidden)) return forbidden;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);

        var services = context.RequestServices;
        var provisioning = services.GetRequiredService<DirectoryProvisioning>();
        var directory = await FindLinkDirectoryAsync(context, session);
        var link = session.Link;
        string plaintext;
        if (directory is null || directory.TenantId != session.Tenant.Id)
        {
            var guide = IdpGuides.Find(link.Idp);
            // Order: the directory (with its first token), then the link row that points at it;
            // a failure in between leaves a directory that the management API still lists.
            var created = await provisioning.CreateWithTokenAsync(session.Tenant.Id, (guide?.Name ?? "Directory") + " (setup portal)",
                guide?.DirectoryProvider ?? "generic", PortalTokenName, SetupActor(link), context.RequestAborted);
            if (!created.IsSuccess) return RenderDirectoryPage(context, session, 422, null, created.Error.Detail);
            (directory, _, plaintext) = created.Value;
            await RecordChangeAsync(context, session, "directory.create", directory.Id.Value, ["name", "provider"], "success", null);
            var saved = await SaveLinkAsync(context, link, l => l with { DirectoryId = directory.Id });
            if (saved is null) return RenderDirectoryPage(context, session, 409, null, "The setup changed in another window; reload the page.");
            link = saved;
        }
        else
        {
            // Named and without expiry, a token fails only for the directory's token limit.
            var issued = await provisioning.CreateTokenAsync(directory.Id, PortalTokenName, null, SetupActor(link), context.RequestAborted);
            if (!issued.IsSuccess)
                return RenderDirectoryPage(context, session, 422, null,
                    $"The directory already has {DirectoryProvisioning.MaxTokensPerDirectory} tokens; ask your vendor to revoke unused ones.");
            plaintext = issued.Value.Plaintext;
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
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        if (!(await ReadFormAsync(context, session)).TryGetValue(out _, out var forbidden)) return forbidden;
        if (!session.Link.Has(SetupFeatures.DirectorySync)) return NotInLink(context, session);
        var provisioning = context.RequestServices.GetRequiredService<DirectoryProvisioning>();
        if (provisioning.AuthorizationOf(DirectoryProviders.GoogleDirectory) is not { Unavailable: null } authorization)
            return RenderDirectoryPage(context, session, 422, null, "Google Workspace sync is not set up by your vendor; use SCIM, or ask them.");
        var directory = await FindLinkDirectoryAsync(context, session);
        var link = session.Link;
        if (directory is null || directory.TenantId != session.Tenant.Id || directory.Provider != DirectoryProviders.GoogleDirectory)
        {
            var created = await provisioning.CreatePulledAsync(session.Tenant.Id, "Google Workspace (setup portal)", authorization, context.RequestAborted);
            if (!created.IsSuccess) return RenderDirectoryPage(context, session, 422, null, created.Error.Detail);
            directory = created.Value.Directory;
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
        if (!(await OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        var services = context.RequestServices;
        var audit = services.GetRequiredService<AuditStore>();
        var partition = session.Tenant.Id.Value;
        IReadOnlyList<Connection>? connections = null;
        List<SetupPages.DirectoryStatus>? directories = null;
        IReadOnlyList<JsonObject>? signIns = null, scimRequests = null;
        if (session.Link.Has(SetupFeatures.Sso))
            connections = await services.GetRequiredService<ConnectionStore>().ListAsync(session.Tenant.Id, context.RequestAborted);
        if (session.Link.Has(SetupFeatures.DirectorySync))
        {
            var store = services.GetRequiredService<DirectoryRecordStore>();
            directories = [];
            foreach (var directory in await store.ListDirectoriesOfTenantAsync(session.Tenant.Id, context.RequestAborted))
            {
                var tokens = await store.ListTokensAsync(directory.Id, context.RequestAborted);
                var users = await CountAsync(services.GetRequiredService<DirectoryUserStore>().QueryUsersAsync(directory.Id, includeDeleted: false, context.RequestAborted));
                var groups = await CountAsync(services.GetRequiredService<DirectoryGroupStore>().QueryGroupsAsync(directory.Id, context.RequestAborted));
                directories.Add(new SetupPages.DirectoryStatus(directory, tokens.Count, tokens.Max(t => t.LastUsedAt), users, groups));
            }
        }
        // The tenant's last sign-in attempts and SCIM requests from the audit trail, with their reasons,
        // so the IT admin can see why Okta's push or a colleague's sign-in failed without a support ticket.
        if (session.Link.Has(SetupFeatures.Sso))
            (signIns, _) = await audit.ReadAsync(partition, AuditTypes.SignInAttempt, null, RecentActivityRows, context.RequestAborted);
        if (session.Link.Has(SetupFeatures.DirectorySync))
            (scimRequests, _) = await audit.ReadAsync(partition, AuditTypes.ScimRequest, null, RecentActivityRows, context.RequestAborted);
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        return Render(context, session, 200, "Status", "status", SetupPages.Status(connections, directories, signIns, scimRequests, now));
    }

    private const int RecentActivityRows = 50;

    // The status page counts rows; past this it says "10000+" rather than read a huge directory.
    private const int MaxCounted = 10_000;

    private static async Task<string> CountAsync<T>(IAsyncEnumerable<T> rows)
    {
        var count = 0;
        await foreach (var _ in rows)
            if (++count >= MaxCounted) return MaxCounted + "+";
        return count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }


    /// <summary>The directory the link created, if it did and it still exists.</summary>
    private static async Task<DirectoryRecord?> FindLinkDirectoryAsync(HttpContext context, Session session) =>
        session.Link.DirectoryId is { } id
            ? await context.RequestServices.GetRequiredService<DirectoryRecordStore>().FindDirectoryAsync(id, context.RequestAborted)
            : null;

    private static string SetupActor(SetupLink link) => "setup_link:" + link.Id;

    private const string PortalTokenName = "setup portal";

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
