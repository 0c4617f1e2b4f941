using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Saml;
using Sso.Protocols.Saml;
using static Sso.Functions.Setup.SetupHtml;

namespace Sso.Functions.Setup;

/// <summary>
/// The portal's pages as pure functions: what the handlers read in, the page's main HTML out.
/// Every value goes through <see cref="E"/>; nothing here reads a store, the clock or the request.
/// </summary>
public static class SetupPages
{
    /// <summary>The form that takes a setup link's secret (the page's script fills it from the fragment).</summary>
    public static string OpenLink(string? error)
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
        return main.ToString();
    }

    /// <summary>Step 1: which IdP the admin uses.</summary>
    public static string Idp(SetupSessionGate.Session session, string? error)
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
        return main.ToString();
    }

    /// <summary>
    /// Step 2: the values to paste into the IdP, its steps, and the form for its metadata or client
    /// details. <paramref name="assertsNothing"/>: another IdP is connected and this one has no domains.
    /// </summary>
    public static string Sso(SetupSessionGate.Session session, IdpGuides.Guide guide, SsoOptions options, Connection? connection,
        bool assertsNothing, DateTimeOffset now, string? noticeHtml, string? error)
    {
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
                .Append(connection is null ? " required" : " placeholder=\"(unchanged)\"").Append('>')
                .Append("<label class=\"check\"><input type=\"checkbox\" id=\"allowUnverifiedEmail\" name=\"allowUnverifiedEmail\" value=\"true\"")
                .Append(connection?.Config["allowUnverifiedEmail"] is System.Text.Json.Nodes.JsonValue allow && allow.TryGetValue<bool>(out var allowed) && allowed ? " checked" : "")
                .Append("> My IdP does not send <code>email_verified</code> (for example Microsoft Entra ID): accept the email addresses it sends</label>");
        }
        main.Append("<button type=\"submit\">").Append(connection is null ? "Save connection" : "Update connection").Append("</button></form>");

        if (assertsNothing)
            main.Append(Alert("warn", "Another identity provider is connected for this organisation, so this one signs nobody in " +
                                      "until an administrator assigns it the email domains it may vouch for. Ask whoever sent this link."));
        if (connection is not null)
        {
            main.Append("<h2>4. Test sign-in</h2><p>Signs you in through ").Append(E(guide.Name))
                .Append(" and shows the attributes it sent and the role they map to. Nothing is signed in to the product.</p>")
                .Append("<a class=\"button\" id=\"test-sign-in\" href=\"").Append(E(session.Path("/test-sign-in"))).Append("\">Test sign-in</a>");
            main.Append(CertificateSummary(connection, now));
        }
        return main.ToString();
    }

    /// <summary>Step 3: the SCIM base URL, a token just issued (shown once), the IdP's steps and the issue button.</summary>
    /// <param name="googleAuthorizeUrl">Set once the link created a Google Workspace directory: where its admin authorizes it.</param>
    public static string Directory(SetupSessionGate.Session session, SsoOptions options, string? issuedToken, string? error,
        string? googleAuthorizeUrl = null)
    {
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
        return main.ToString();
    }

    /// <summary>A directory on the status page: its token count, last SCIM request, and user and group counts (already capped).</summary>
    public sealed record DirectoryStatus(DirectoryRecord Directory, int TokenCount, DateTimeOffset? LastUsed, string Users, string Groups);

    /// <summary>
    /// Step 4: the connections and directories, then recent activity; a null list is a section the
    /// link does not include.
    /// </summary>
    public static string Status(IReadOnlyList<Connection>? connections, IReadOnlyList<DirectoryStatus>? directories,
        IReadOnlyList<JsonObject>? signIns, IReadOnlyList<JsonObject>? scimRequests, DateTimeOffset now)
    {
        var main = new StringBuilder();
        if (connections is not null)
        {
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
        if (directories is not null)
        {
            main.Append("<h2>Directory sync</h2>");
            if (directories.Count == 0) main.Append("<p>No directory is set up yet.</p>");
            foreach (var (directory, tokenCount, lastUsed, users, groups) in directories)
            {
                main.Append("<section class=\"directory\" id=\"").Append(E(directory.Id.Value)).Append("\"><h3>").Append(E(directory.Name)).Append("</h3><table>")
                    .Append("<tr><th>Last SCIM request</th><td id=\"last-scim-request\">")
                    .Append(lastUsed is { } at ? E(at.ToString("yyyy-MM-dd HH:mm 'UTC'")) : "never").Append("</td></tr>")
                    .Append("<tr><th>Users</th><td id=\"user-count\">").Append(users).Append("</td></tr>")
                    .Append("<tr><th>Groups</th><td id=\"group-count\">").Append(groups).Append("</td></tr>")
                    .Append("<tr><th>SCIM tokens</th><td>").Append(tokenCount).Append("</td></tr></table></section>");
            }
        }
        if (signIns is not null)
        {
            main.Append("<h2>Recent sign-in attempts</h2>");
            AppendActivityTable(main, "recent-sign-ins", ["Time", "Result", "Reason", "Email domain", "Connection"], signIns,
                row => [Text(row, "result"), Text(row, "reason"), Text(row, "emailDomain"), Text(row, "connectionId")]);
        }
        if (scimRequests is not null)
        {
            main.Append("<h2>Recent SCIM requests</h2>");
            AppendActivityTable(main, "recent-scim-requests", ["Time", "Request", "Status", "Reason", "Duration"], scimRequests,
                row => [Text(row, "method") + " " + Text(row, "path"), Text(row, "status"), Text(row, "reason"), Text(row, "durationMs") + " ms"]);
        }
        return main.ToString();
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
}
