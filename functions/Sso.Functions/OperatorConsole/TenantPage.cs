using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Hosting;
using Sso.Functions.Setup;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using static Sso.Functions.OperatorConsole.ConsoleLayout;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// <c>/console/tenants/{tenantId}</c>: one tenant, its domains and their verification, its settings,
/// connections, directories and setup links, read by <see cref="TenantOverview"/>. Each form posts to its own function, which calls
/// the same operation as the management API (<see cref="TenantAdministration"/>, <see cref="DomainVerification"/>,
/// <see cref="SetupLinkIssuer"/>) and comes back here.
/// </summary>
public static partial class TenantPage
{
    private const string Route = TenantListPage.Path + "/{tenantId}";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ConsoleTenant", Route, ["GET"], ShowAsync),
        new("ConsoleAddTenantDomain", Route + "/domains", ["POST"], AddDomainAsync),
        new("ConsoleVerifyTenantDomain", Route + "/domains/verify", ["POST"], VerifyDomainAsync),
        new("ConsoleCreateSetupLink", Route + "/setup-links", ["POST"], CreateSetupLinkAsync),
        new("ConsoleRevokeSetupLink", Route + "/setup-links/{linkId}/revoke", ["POST"], RevokeSetupLinkAsync),
        new("ConsoleSaveTenantSettings", Route + "/settings", ["POST"], SaveSettingsAsync),
        new("ConsoleRevokeDirectoryToken", Route + "/directories/{directoryId}/tokens/{tokenId}/revoke", ["POST"], RevokeTokenAsync),
        new("ConsoleAuthorizeDirectory", Route + "/directories/{directoryId}/authorize", ["POST"], ReauthorizeDirectoryAsync),
    ];

    public static string PathOf(TenantId tenantId) => TenantListPage.Path + "/" + Uri.EscapeDataString(tenantId.Value);

    /// <summary>The fixed texts a redirect back here may name in <c>?done=</c>.</summary>
    private static readonly Dictionary<string, string> Done = new()
    {
        ["created"] = "The tenant was created. Publish each domain's TXT record, then press Verify.",
        ["domain-added"] = "The domain was added. Publish its TXT record, then press Verify.",
        ["domain-verified"] = "The domain is verified.",
        ["link-revoked"] = "The setup link was revoked.",
        ["settings-saved"] = "The settings were saved.",
        ["token-revoked"] = "The SCIM token was revoked.",
    };

    private static async Task<IResult> ShowAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(signedIn, context);
        return await RenderAsync(context, signedIn, tenant, 200, Flash(context.Request.Query["done"], Done));
    }

    private static async Task<IResult> RenderAsync(HttpContext context, SignedInOperator signedIn, Tenant tenant, int status, string? flashHtml) =>
        Rendered(signedIn, await Overview(context).ReadAsync(tenant, context.RequestAborted), status, flashHtml);

    private static IResult Rendered(SignedInOperator signedIn, TenantOverviewModel model, int status, string? flashHtml) =>
        ConsoleResults.Page(signedIn, status, model.Tenant.Name, ConsoleSection.Tenants, Render(model, signedIn.Viewer), flashHtml);

    private static TenantOverview Overview(HttpContext context) => context.RequestServices.GetRequiredService<TenantOverview>();

    // ---- domains ----

    private static async Task<IResult> AddDomainAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out var form, out var forbidden)) return forbidden;
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(signedIn, context);
        var domain = form["domain"].ToString().Trim();
        var domains = new JsonArray(tenant.Domains.Select(d => (JsonNode?)d).Append(domain).ToArray());
        var updated = await context.RequestServices.GetRequiredService<TenantAdministration>()
            .UpdateAsync(tenant.Id, new JsonObject { ["domains"] = domains }, context.RequestAborted);
        return await AfterChangeAsync(context, signedIn, tenant, "tenant.update", new AuditTarget("tenant", tenant.Id.Value), ["domains"],
            updated.IsSuccess ? null : updated.Error, "domain-added");
    }

    private static async Task<IResult> VerifyDomainAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out var form, out var forbidden)) return forbidden;
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(signedIn, context);
        var domain = form["domain"].ToString();
        var verified = await context.RequestServices.GetRequiredService<DomainVerification>().VerifyAsync(tenant, domain, context.RequestAborted);
        return await AfterChangeAsync(context, signedIn, tenant, "tenant_domain.verify", new AuditTarget("tenant_domain", domain), [],
            verified.IsSuccess ? null : verified.Error, "domain-verified");
    }

    // ---- setup links ----

    private static async Task<IResult> CreateSetupLinkAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out var form, out var forbidden)) return forbidden;
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(signedIn, context);
        // The form's fields become the API's body, so the API's validation (and its messages) decide.
        var body = new JsonObject { ["features"] = new JsonArray(form["features"].Select(f => (JsonNode?)f).ToArray()) };
        if (form["expiresInHours"].ToString().Trim() is { Length: > 0 } hours)
            body["expiresInHours"] = int.TryParse(hours, out var h) ? h : JsonValue.Create(hours);
        var issued = await context.RequestServices.GetRequiredService<SetupLinkIssuer>()
            .CreateAsync(tenant, body, signedIn.Operator.Id, context.RequestAborted);
        if (!issued.TryGetValue(out var link, out var problem))
            return await AfterChangeAsync(context, signedIn, tenant, "setup_link.create", null, ["features", "expiresInHours"], problem, null);
        await ConsoleResults.AuditAsync(context, signedIn, tenant.Id.Value, "setup_link.create", new AuditTarget("setup_link", link.Link.Id),
            ["features", "expiresInHours"]);
        // The URL holds the link's secret: it is shown on this answer only, never put in a redirect's URL.
        var shown = "<div class=\"alert ok\" role=\"status\"><p><strong>Setup link created.</strong> Send it to the customer's IT admin; "
                    + "it is shown only now.</p>" + CopyValue("new-setup-link", link.Url) + "</div>";
        return await RenderAsync(context, signedIn, tenant, 200, shown);
    }

    private static async Task<IResult> RevokeSetupLinkAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out _, out var forbidden)) return forbidden;
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(signedIn, context);
        var linkId = context.RouteString("linkId");
        var revoked = await context.RequestServices.GetRequiredService<SetupLinkIssuer>().RevokeAsync(tenant.Id, linkId, context.RequestAborted);
        return await AfterChangeAsync(context, signedIn, tenant, "setup_link.revoke", new AuditTarget("setup_link", linkId), [],
            revoked.IsSuccess ? null : revoked.Error, "link-revoked");
    }

    // ---- shared ----

    /// <summary>Audits the change; success goes back to the page (303, <c>?done=</c>), a problem re-renders it with the API's message.</summary>
    private static async Task<IResult> AfterChangeAsync(HttpContext context, SignedInOperator signedIn, Tenant tenant, string action,
        AuditTarget? target, IReadOnlyList<string> fields, Problem? problem, string? done)
    {
        await ConsoleResults.AuditAsync(context, signedIn, tenant.Id.Value, action, target, fields, problem);
        if (problem is not null)
            return Rendered(signedIn, await Overview(context).ReadCurrentAsync(tenant, context.RequestAborted), problem.Status,
                TenantCreatePage.ProblemAlert(problem));
        return ConsoleResults.SeeOther(PathOf(tenant.Id) + (done is null ? "" : "?done=" + done));
    }

    private static async Task<Tenant?> FindTenantAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await Overview(context).FindTenantAsync(id, context.RequestAborted);
    }

    private static IResult TenantNotFound(SignedInOperator signedIn, HttpContext context) =>
        ConsoleResults.Page(signedIn, 404, "Tenant not found", ConsoleSection.Tenants,
            $"<p>There is no tenant '{E(context.RouteString("tenantId"))}'.</p><p><a href=\"{TenantListPage.Path}\">All tenants</a></p>");

    // ---- HTML ----

    public static string Render(TenantOverviewModel model, ConsoleViewer viewer)
    {
        var tenant = model.Tenant;
        var basePath = PathOf(tenant.Id);
        var html = new StringBuilder()
            .Append("<p class=\"muted\"><a href=\"").Append(TenantListPage.Path).Append("\">Tenants</a> / <code>").Append(E(tenant.Id.Value)).Append("</code>")
            .Append(" · created ").Append(Time(tenant.CreatedAt)).Append("</p>");

        html.Append("<section class=\"panel\" id=\"domains\"><h2>Domains</h2>");
        if (model.Domains.Count == 0) html.Append("<p class=\"muted\">No domains yet.</p>");
        else
        {
            html.Append("<table><thead><tr><th>Domain</th><th>Status</th><th>TXT record to publish</th><th></th></tr></thead><tbody>");
            var i = 0;
            foreach (var claim in model.Domains)
            {
                i++;
                html.Append("<tr data-domain=\"").Append(E(claim.Domain)).Append("\"><td>").Append(E(claim.Domain)).Append("</td><td>")
                    .Append(claim.IsVerified
                        ? claim.VerificationLostAt is not null ? Badge("warn", "record missing since " + claim.VerificationLostAt.Value.UtcDateTime.ToString("yyyy-MM-dd")) : Badge("ok", "verified")
                        : Badge("warn", "pending"))
                    .Append(claim.LastCheckedAt is { } checkedAt ? "<br><span class=\"hint\">checked " + Time(checkedAt) + "</span>" : "")
                    .Append("</td><td><div>Name: ").Append(CopyValue("txt-name-" + i, claim.ChallengeRecordName)).Append("</div>")
                    .Append("<div>Value: ").Append(CopyValue("txt-value-" + i, claim.Challenge)).Append("</div></td><td>")
                    .Append(ButtonForm(basePath + "/domains/verify", viewer.CsrfToken, "Verify", "secondary", "domain", claim.Domain))
                    .Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append(Form(basePath + "/domains", viewer.CsrfToken,
                "<label class=\"field\" for=\"new-domain\">Add a domain</label><input type=\"text\" id=\"new-domain\" name=\"domain\" required placeholder=\"example.com\"> "
                + "<button type=\"submit\" class=\"secondary\">Add domain</button>", "stack"))
            .Append("</section>");

        html.Append(RenderSettings(tenant, basePath, viewer))
            .Append(RenderConnections(model.Connections))
            .Append(RenderDirectories(model.Directories, basePath, viewer, model.Now));

        html.Append("<section class=\"panel\" id=\"setup-links\"><h2>Setup links</h2>")
            .Append("<p class=\"hint\">A setup link lets the customer's IT admin configure SSO and/or directory sync without an account here.</p>");
        var links = model.SetupLinks.OrderByDescending(l => l.CreatedAt).ToList();
        if (links.Count == 0) html.Append("<p class=\"muted\">No setup links.</p>");
        else
        {
            html.Append("<table><thead><tr><th>Link</th><th>For</th><th>Status</th><th>Created</th><th>Expires</th><th></th></tr></thead><tbody>");
            foreach (var link in links)
            {
                var status = link.Status(model.Now);
                html.Append("<tr data-link=\"").Append(E(link.Id)).Append("\"><td><code>").Append(E(link.Id)).Append("</code></td><td>")
                    .Append(E(string.Join(", ", link.Features.Select(f => f == SetupFeatures.Sso ? "SSO" : "directory sync")))).Append("</td><td>")
                    .Append(Badge(status == "active" ? "ok" : "muted", status)).Append("</td><td>").Append(Time(link.CreatedAt)).Append("</td><td>")
                    .Append(Time(link.ExpiresAt)).Append("</td><td>");
                if (status == "active")
                    html.Append(ButtonForm(basePath + "/setup-links/" + Uri.EscapeDataString(link.Id) + "/revoke", viewer.CsrfToken, "Revoke", "danger"));
                html.Append("</td></tr>");
            }
            html.Append("</tbody></table>");
        }
        html.Append(Form(basePath + "/setup-links", viewer.CsrfToken,
                "<fieldset class=\"plain\"><legend>New setup link</legend>"
                + "<label class=\"check\"><input type=\"checkbox\" name=\"features\" value=\"sso\" checked>Single sign-on</label>"
                + "<label class=\"check\"><input type=\"checkbox\" name=\"features\" value=\"dsync\" checked>Directory sync</label>"
                + $"<label class=\"field\" for=\"link-hours\">Expires in (hours) <span class=\"hint\">1 to {SetupLinkIssuer.MaxExpiresInHours}</span></label>"
                + $"<input type=\"number\" id=\"link-hours\" name=\"expiresInHours\" min=\"1\" max=\"{SetupLinkIssuer.MaxExpiresInHours}\" value=\"{SetupLinkIssuer.DefaultExpiresInHours}\">"
                + "</fieldset><button type=\"submit\">Create setup link</button>", "stack"))
            .Append("</section>");
        return html.ToString();
    }
}
