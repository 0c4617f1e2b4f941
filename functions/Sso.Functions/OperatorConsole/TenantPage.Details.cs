using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Tenants;
using static Sso.Functions.OperatorConsole.ConsoleLayout;

namespace Sso.Functions.OperatorConsole;

/// <summary>The tenant page's settings, connections and directories.</summary>
public static partial class TenantPage
{
    // ---- settings ----

    private static async Task<IResult> SaveSettingsAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out var form, out var forbidden)) return forbidden;
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(signedIn, context);
        var settings = SettingsPatch(form);
        var updated = await context.RequestServices.GetRequiredService<TenantAdministration>()
            .UpdateAsync(tenant.Id, new JsonObject { ["settings"] = settings }, context.RequestAborted);
        return await AfterChangeAsync(context, signedIn, tenant, "tenant.update", new AuditTarget("tenant", tenant.Id.Value),
            settings.Select(s => "settings." + s.Key).ToArray(), updated.IsSuccess ? null : updated.Error, "settings-saved");
    }

    /// <summary>
    /// The settings form as the API's merge patch. A checkbox sends nothing when unticked, so the form
    /// carries a hidden "false" before each; mappings are "group = role" lines.
    /// </summary>
    public static JsonObject SettingsPatch(IFormCollection form)
    {
        var roles = form["roles"].ToString().Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var mappings = new JsonArray();
        foreach (var line in form["groupRoleMappings"].ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = line.LastIndexOf('=');
            mappings.Add((JsonNode)new JsonObject
            {
                ["group"] = equals < 0 ? line : line[..equals].Trim(),
                ["role"] = equals < 0 ? "" : line[(equals + 1)..].Trim(),
            });
        }
        return new JsonObject
        {
            ["jitProvisioning"] = form["jitProvisioning"].Contains("true"),
            ["enforceSso"] = form["enforceSso"].Contains("true"),
            ["roles"] = new JsonArray(roles.Select(r => (JsonNode?)r).ToArray()),
            ["defaultRole"] = form["defaultRole"].ToString().Trim(),
            ["groupRoleMappings"] = mappings,
        };
    }

    // ---- directories ----

    private static async Task<IResult> RevokeTokenAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out _, out var forbidden)) return forbidden;
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(signedIn, context);
        var tokenId = context.RouteString("tokenId");
        if (await FindOwnedDirectoryAsync(context, tenant) is not { } directory)
            return await AfterChangeAsync(context, signedIn, tenant, "directory_token.revoke", new AuditTarget("directory_token", tokenId), [],
                Problem.NotFound("directory", context.RouteString("directoryId")), null);
        var revoked = await context.RequestServices.GetRequiredService<DirectoryProvisioning>().RevokeTokenAsync(directory.Id, tokenId, context.RequestAborted);
        return await AfterChangeAsync(context, signedIn, tenant, "directory_token.revoke", new AuditTarget("directory_token", tokenId), [],
            revoked.IsSuccess ? null : revoked.Error, "token-revoked");
    }

    private static async Task<IResult> ReauthorizeDirectoryAsync(HttpContext context)
    {
        if (!(await ConsoleSessionGate.OpenAsync(context)).TryGetValue(out var signedIn, out var refusal)) return refusal;
        if (!(await ConsoleSessionGate.ReadFormAsync(context, signedIn)).TryGetValue(out _, out var forbidden)) return forbidden;
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(signedIn, context);
        var target = new AuditTarget("directory", context.RouteString("directoryId"));
        // The same operation as POST /api/v1/directories/{id}/authorize: a fresh URL for the customer's admin to open.
        var started = await FindOwnedDirectoryAsync(context, tenant) is { } directory
            ? await context.RequestServices.GetRequiredService<GoogleDirectory.GoogleAuthorization>().ReauthorizeAsync(directory.Id, context.RequestAborted)
            : Problem.NotFound("directory", context.RouteString("directoryId"));
        if (!started.TryGetValue(out var reauthorization, out var problem))
            return await AfterChangeAsync(context, signedIn, tenant, "directory.authorize", target, [], problem, null);
        var url = reauthorization.AuthorizeUrl;
        await ConsoleResults.AuditAsync(context, signedIn, tenant.Id.Value, "directory.authorize", target, []);
        var shown = "<div class=\"alert ok\" role=\"status\"><p><strong>Authorization link created.</strong> Send it to the customer's "
                    + "Google Workspace admin; it works for " + (int)GoogleAuthorizationLifetime.TotalMinutes + " minutes.</p>"
                    + CopyValue("authorize-url", url) + "</div>";
        return await RenderAsync(context, signedIn, tenant, 200, shown);
    }

    private static readonly TimeSpan GoogleAuthorizationLifetime = GoogleDirectory.GoogleAuthorization.Lifetime;

    private static Task<DirectoryRecord?> FindOwnedDirectoryAsync(HttpContext context, Tenant tenant) =>
        Overview(context).FindOwnedDirectoryAsync(tenant, context.RouteString("directoryId"), context.RequestAborted);

    // ---- HTML ----

    private static string RenderSettings(Tenant tenant, string basePath, ConsoleViewer viewer)
    {
        var s = tenant.Settings;
        var roles = new StringBuilder();
        foreach (var role in s.Roles)
            roles.Append("<option").Append(role == s.DefaultRole ? " selected" : "").Append('>').Append(E(role)).Append("</option>");
        var mappings = string.Join("\n", s.GroupRoleMappings.Select(m => m.Group + " = " + m.Role));
        return "<section class=\"panel\" id=\"settings\"><h2>Settings</h2>" + Form(basePath + "/settings", viewer.CsrfToken,
            "<div class=\"grid2\"><div>"
            + "<input type=\"hidden\" name=\"jitProvisioning\" value=\"false\">"
            + $"<label class=\"check\"><input type=\"checkbox\" name=\"jitProvisioning\" value=\"true\"{(s.JitProvisioning ? " checked" : "")}>Just-in-time provisioning <span class=\"hint\">users who sign in are created without a directory</span></label>"
            + "<input type=\"hidden\" name=\"enforceSso\" value=\"false\">"
            + $"<label class=\"check\"><input type=\"checkbox\" name=\"enforceSso\" value=\"true\"{(s.EnforceSso ? " checked" : "")}>Enforce SSO <span class=\"hint\">the tenant's domains sign in only through SSO</span></label>"
            + "<label class=\"field\" for=\"roles\">Roles <span class=\"hint\">lowest first, comma-separated</span></label>"
            + $"<input type=\"text\" id=\"roles\" name=\"roles\" value=\"{E(string.Join(", ", s.Roles))}\">"
            + "<label class=\"field\" for=\"default-role\">Default role</label>"
            + $"<select id=\"default-role\" name=\"defaultRole\">{roles}</select>"
            + "</div><div>"
            + "<label class=\"field\" for=\"mappings\">Role mappings <span class=\"hint\">one per line: group = role</span></label>"
            + $"<textarea id=\"mappings\" name=\"groupRoleMappings\" rows=\"4\">{E(mappings)}</textarea>"
            + "</div></div><button type=\"submit\">Save settings</button>", "stack") + "</section>";
    }

    private static string RenderConnections(IReadOnlyList<ConnectionSummary> connections)
    {
        var html = new StringBuilder("<section class=\"panel\" id=\"connections\"><h2>Connections</h2>");
        if (connections.Count == 0) return html.Append("<p class=\"muted\">No connections. A setup link lets the customer's admin add one.</p></section>").ToString();
        html.Append("<table><thead><tr><th>Connection</th><th>Protocol</th><th>Certificates</th><th>Last sign-in</th><th>Last refusal</th></tr></thead><tbody>");
        foreach (var summary in connections)
        {
            var c = summary.Connection;
            html.Append("<tr data-connection=\"").Append(E(c.Id.Value)).Append("\"><td>").Append(E(c.Name ?? c.Id.Value))
                .Append("<br><code class=\"muted\">").Append(E(c.Id.Value)).Append("</code>");
            if (!c.Enabled) html.Append(' ').Append(Badge("bad", "disabled" + (c.DisabledReason is { } why ? ": " + why : "")));
            else if (c.AwaitsConfirmation) html.Append(' ').Append(Badge("warn", "awaiting confirmation"));
            html.Append("</td><td>").Append(E(c.Type.ToUpperInvariant())).Append("</td><td>");
            if (summary.Certificates.Count == 0) html.Append("<span class=\"muted\">—</span>");
            foreach (var certificate in summary.Certificates)
            {
                var badge = certificate.Expired ? Badge("bad", "expired") : certificate.ExpiresSoon ? Badge("warn", "expires soon") : Badge("ok", "valid");
                html.Append("<div>").Append(badge).Append(" until ").Append(Time(certificate.NotAfter)).Append("</div>");
            }
            html.Append("</td><td>").Append(AuditMoment(summary.LastSignIn)).Append("</td><td>");
            if (summary.LastRefusal is { } refused)
                html.Append(AuditMoment(refused)).Append("<br><code>").Append(E(refused["reason"]?.GetValue<string>() ?? "unknown")).Append("</code>");
            else html.Append("<span class=\"muted\">—</span>");
            html.Append("</td></tr>");
        }
        return html.Append("</tbody></table></section>").ToString();
    }

    private static string RenderDirectories(IReadOnlyList<DirectorySummary> directories, string basePath, ConsoleViewer viewer, DateTimeOffset now)
    {
        var html = new StringBuilder("<section class=\"panel\" id=\"directories\"><h2>Directories</h2>");
        if (directories.Count == 0) return html.Append("<p class=\"muted\">No directories.</p></section>").ToString();
        foreach (var summary in directories)
        {
            var d = summary.Directory;
            var path = basePath + "/directories/" + Uri.EscapeDataString(d.Id.Value);
            html.Append("<h3 data-directory=\"").Append(E(d.Id.Value)).Append("\">").Append(E(d.Name)).Append(" <span class=\"muted\">(")
                .Append(E(d.Provider)).Append(")</span></h3><dl class=\"facts\">")
                .Append("<dt>Id</dt><dd><code>").Append(E(d.Id.Value)).Append("</code></dd>")
                .Append("<dt>Users</dt><dd>").Append(summary.ActiveUsers).Append(" active</dd>")
                .Append("<dt>Groups</dt><dd>").Append(E(summary.Groups)).Append("</dd>");
            if (summary.Sync is { } sync)
            {
                html.Append("<dt>Google</dt><dd>")
                    .Append(sync.State == DirectorySyncState.NeedsAuthorization ? Badge("warn", "needs authorization") : Badge("ok", sync.State))
                    .Append(sync.LastSyncAt is { } at ? " · last sync " + Time(at) + " " + E(sync.LastSyncResult) : "").Append("</dd>");
            }
            else
            {
                html.Append("<dt>Last SCIM request</dt><dd>");
                if (summary.LastScimRequest is { } request)
                    html.Append(AuditMoment(request)).Append(" <code>").Append(E(request["method"]?.GetValue<string>())).Append(' ')
                        .Append(E(request["path"]?.GetValue<string>())).Append("</code> → ").Append(E(request["status"]?.ToString()));
                else html.Append("<span class=\"muted\">none recorded</span>");
                html.Append("</dd>");
            }
            html.Append("</dl>");
            if (summary.Sync is { State: DirectorySyncState.NeedsAuthorization })
                html.Append(ButtonForm(path + "/authorize", viewer.CsrfToken, "Re-authorize"));
            if (summary.Sync is null)
            {
                if (summary.Tokens.Count == 0) html.Append("<p class=\"muted\">No SCIM tokens.</p>");
                else
                {
                    html.Append("<table class=\"tokens\"><thead><tr><th>Token</th><th>Created</th><th>Last used</th><th>Expires</th><th></th></tr></thead><tbody>");
                    foreach (var token in summary.Tokens)
                    {
                        html.Append("<tr data-token=\"").Append(E(token.Id)).Append("\"><td>").Append(E(token.Name ?? "(unnamed)"))
                            .Append("<br><code class=\"muted\">").Append(E(token.Id)).Append("</code></td><td>").Append(Time(token.CreatedAt))
                            .Append("</td><td>").Append(Time(token.LastUsedAt)).Append("</td><td>");
                        if (token.ExpiresAt is { } expires)
                            html.Append(Time(expires)).Append(token.IsExpiredAt(now) ? " " + Badge("bad", "expired")
                                : expires - now < TimeSpan.FromDays(14) ? " " + Badge("warn", "expires soon") : "");
                        else html.Append("<span class=\"muted\">never</span>");
                        html.Append("</td><td>").Append(ButtonForm(path + "/tokens/" + Uri.EscapeDataString(token.Id) + "/revoke", viewer.CsrfToken,
                            "Revoke", "danger")).Append("</td></tr>");
                    }
                    html.Append("</tbody></table>");
                }
            }
        }
        return html.Append("</section>").ToString();
    }

    private static string AuditMoment(JsonObject? row) =>
        row?["occurredAt"]?.GetValue<string>() is { } at && DateTimeOffset.TryParse(at, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var when)
            ? Time(when)
            : "<span class=\"muted\">—</span>";
}
