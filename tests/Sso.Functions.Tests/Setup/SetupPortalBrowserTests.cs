using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Testing;
using TenantId = Sso.Functions.Storage.TenantId;

namespace Sso.Functions.Tests.Setup;

/// <summary>Debian's Chromium, driven by Playwright, shared by the browser tests of a class.</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"{ExecutablePath} is missing; run scripts/ensure-tools.sh (./test.sh does) to install Debian's chromium.");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new() { ExecutablePath = ExecutablePath, Args = ["--no-sandbox"], Headless = true });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
    }
}

/// <summary>
/// The setup wizard in a real browser, against the app on a real loopback socket (its public
/// base URL is that socket, so every redirect lands), as a customer's IT admin walks it: Okta
/// with the samlify IdP's metadata, Test sign-in through samlify, a SCIM token that then works,
/// the status view; and the refusals (expired and revoked links, bad metadata, forged posts).
/// Each step's screenshot goes to artifacts/screenshots/.
/// </summary>
public class SetupPortalBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static readonly string Screenshots = Path.Combine(RepositoryPaths.Artifacts, "screenshots");

    private sealed class PortalApp : IAsyncDisposable
    {
        private PortalApp(SsoAppFactory app, string baseUrl)
        {
            App = app;
            BaseUrl = baseUrl;
            Admin = new HttpClient { BaseAddress = new Uri(baseUrl) };
            Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SsoAppFactory.AdminKey);
        }

        public SsoAppFactory App { get; }
        public string BaseUrl { get; }
        public HttpClient Admin { get; }

        public static async Task<PortalApp> StartAsync()
        {
            var port = AzuriteServer.FreePort();
            var baseUrl = $"http://127.0.0.1:{port}";
            var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?> { ["Sso:PublicBaseUrl"] = baseUrl });
            app.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
            app.StartServer();
            return new PortalApp(app, baseUrl);
        }

        public async Task<(string TenantId, string LinkUrl, string LinkId)> TenantWithLinkAsync(string domain, int? expiresInHours = null)
        {
            var tenant = await Admin.PostAsJsonAsync("/api/v1/tenants", new JsonObject { ["name"] = "Hopper Labs", ["domains"] = new JsonArray(domain) });
            Assert.True(tenant.StatusCode == HttpStatusCode.Created, await tenant.Content.ReadAsStringAsync());
            var tenantId = (await tenant.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            var patched = await Admin.PatchAsync($"/api/v1/tenants/{tenantId}", JsonContent.Create(new JsonObject
            {
                ["settings"] = new JsonObject
                {
                    ["jitProvisioning"] = true,
                    ["roles"] = new JsonArray("member", "admin"),
                    ["defaultRole"] = "member",
                    ["groupRoleMappings"] = new JsonArray(new JsonObject { ["group"] = "Engineering", ["role"] = "admin" }),
                },
            }));
            Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
            var body = new JsonObject { ["features"] = new JsonArray("sso", "dsync") };
            if (expiresInHours is { } hours) body["expiresInHours"] = hours;
            var link = await Admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/setup-links", body);
            Assert.True(link.StatusCode == HttpStatusCode.Created, await link.Content.ReadAsStringAsync());
            var created = (await link.Content.ReadFromJsonAsync<JsonObject>())!;
            return (tenantId, created["url"]!.GetValue<string>(), created["id"]!.GetValue<string>());
        }

        public async ValueTask DisposeAsync()
        {
            Admin.Dispose();
            await App.DisposeAsync();
        }
    }

    private async Task<IPage> NewPageAsync()
    {
        var context = await chromium.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1100, Height = 900 } });
        // The first navigations of a suite run meet a cold app and a machine still starting every test
        // class; 15 s was once not enough for the link's page to post its secret and land on /setup/idp.
        context.SetDefaultTimeout(45_000);
        return await context.NewPageAsync();
    }

    private static Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        return page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
    }

    [Fact]
    public async Task Walks_the_wizard_for_Okta_with_samlify_metadata_test_sign_in_and_a_working_SCIM_token()
    {
        await using var portal = await PortalApp.StartAsync();
        var domain = "wizard" + Guid.NewGuid().ToString("N")[..10] + ".test";
        await using var idp = await SamlifyIdpServer.StartAsync(new SamlifyIdpServer.User("grace@" + domain, "Grace", "Hopper", ["Engineering", "R&D"]));
        var (tenantId, linkUrl, _) = await portal.TenantWithLinkAsync(domain, expiresInHours: 720);
        var page = await NewPageAsync();
        var csp = new List<string>();
        page.Console += (_, message) => { if (message.Text.Contains("Content Security Policy")) csp.Add(message.Text); };
        // Every URL the browser requests, as it reaches the network (no fragment).
        var requested = new List<string>();
        page.Context.Request += (_, request) => requested.Add(request.Url);

        // 1. Choose the IdP: the link's page hands its secret over and continues on /setup/idp.
        var opened = await page.GotoAsync(linkUrl, new() { WaitUntil = WaitUntilState.Commit });
        Assert.Equal(200, opened!.Status);
        await page.WaitForURLAsync("**/setup/idp");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Choose your identity provider");
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("Hopper Labs");
        await ScreenshotAsync(page, "01-choose-idp");
        await page.GetByLabel("Okta", new() { Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();

        // 2. The values to paste into Okta, with copy buttons.
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Set up single sign-on with Okta");
        var acsUrl = await page.Locator("#acs-url").TextContentAsync();
        var entityId = await page.Locator("#sp-entity-id").TextContentAsync();
        var spMetadataUrl = await page.Locator("#sp-metadata-url").TextContentAsync();
        Assert.Matches($"^{portal.BaseUrl}/saml/acs/con_[0-9a-z]{{26}}$", acsUrl);
        Assert.StartsWith(portal.BaseUrl + "/saml/metadata/con_", entityId);
        Assert.Equal(entityId, spMetadataUrl);
        Assert.Contains("Audience URI (SP Entity ID)", await page.Locator("ol.guide").TextContentAsync());
        await page.Locator("button[data-copy='acs-url']").ClickAsync();
        await Assertions.Expect(page.Locator("button[data-copy='acs-url']")).ToHaveTextAsync("Copied");
        await ScreenshotAsync(page, "02-okta-values");

        // Bad metadata: a precise error, nothing saved.
        await page.Locator("#metadataXml").FillAsync("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save connection" }).ClickAsync();
        await Assertions.Expect(page.Locator(".alert.error")).ToContainTextAsync("idpMetadataXml:");
        await ScreenshotAsync(page, "03-bad-metadata");
        Assert.Empty(await portal.App.Get<ConnectionStore>().ListAsync(new TenantId(tenantId), default));

        // 3. Paste samlify's metadata.
        using var http = new HttpClient();
        await page.Locator("#metadataXml").FillAsync(await http.GetStringAsync(idp.MetadataUrl));
        await page.GetByRole(AriaRole.Button, new() { Name = "Save connection" }).ClickAsync();
        await Assertions.Expect(page.Locator(".alert.ok")).ToContainTextAsync("The connection is saved");
        await ScreenshotAsync(page, "04-connection-saved");
        var connection = Assert.Single(await portal.App.Get<ConnectionStore>().ListAsync(new TenantId(tenantId), default));
        Assert.Equal(portal.BaseUrl + "/saml/acs/" + connection.Id, acsUrl);
        Assert.Equal(idp.MetadataUrl, connection.ConfigString("idpEntityId"));
        // The admin gives Okta (here samlify) our SP metadata.
        await idp.RegisterServiceProviderAsync(await http.GetStringAsync(spMetadataUrl));

        // 4. Test sign-in: a real sign-in through samlify, back on the portal with what it sent.
        await page.Locator("#test-sign-in").ClickAsync();
        await page.WaitForURLAsync("**/test-result");
        await Assertions.Expect(page.Locator("#mapped-role")).ToHaveTextAsync("admin");
        await Assertions.Expect(page.Locator(".alert.ok")).ToContainTextAsync("grace@" + domain);
        await Assertions.Expect(page.Locator("#idp-attributes")).ToContainTextAsync("firstName");
        await Assertions.Expect(page.Locator("#idp-attributes")).ToContainTextAsync("Grace");
        await Assertions.Expect(page.Locator("#claims")).ToContainTextAsync("Engineering, R&D");
        await ScreenshotAsync(page, "05-test-sign-in-result");
        Assert.DoesNotContain("sso_setup_", page.Url.Replace(linkUrl, ""));

        // 5. Directory sync: the SCIM token, shown once, works.
        await page.GetByRole(AriaRole.Link, new() { Name = "Directory sync" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Set up directory sync");
        await ScreenshotAsync(page, "06-directory-sync");
        await page.Locator("#issue-scim-token").ClickAsync();
        var scimToken = await page.Locator("#scim-token").TextContentAsync();
        var scimBaseUrl = await page.Locator("#scim-base-url").TextContentAsync();
        Assert.StartsWith("scim_", scimToken);
        Assert.Matches($"^{portal.BaseUrl}/scim/v2/dir_[0-9a-z]{{26}}$", scimBaseUrl);
        await ScreenshotAsync(page, "07-scim-token");

        using var scim = new HttpClient();
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", scimToken);
        var created = await scim.PostAsync(scimBaseUrl + "/Users", new StringContent(
            $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@{{domain}}","active":true,"emails":[{"value":"grace@{{domain}}","primary":true}]}""",
            Encoding.UTF8, "application/scim+json"));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var listed = await scim.GetAsync(scimBaseUrl + "/Users");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Contains("grace@" + domain, await listed.Content.ReadAsStringAsync());
        using var wrong = new HttpClient();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", scimToken + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(scimBaseUrl + "/Users")).StatusCode);

        // Reloaded, the page no longer shows the token.
        await page.GotoAsync(portal.BaseUrl + "/setup/dsync");
        Assert.DoesNotContain(scimToken!, await page.ContentAsync());

        // 6. Status: the connection, its certificate, the last SCIM request, users and groups.
        await page.GetByRole(AriaRole.Link, new() { Name = "Status" }).ClickAsync();
        await Assertions.Expect(page.Locator("#user-count")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#group-count")).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("#last-scim-request")).Not.ToHaveTextAsync("never");
        await Assertions.Expect(page.Locator("table.certificates")).ToContainTextAsync("CN=samlify test IdP");
        // The audit trail's recent activity: the Test sign-in, and the SCIM calls with the refused token.
        await Assertions.Expect(page.Locator("#recent-sign-ins")).ToContainTextAsync("success");
        await Assertions.Expect(page.Locator("#recent-sign-ins")).ToContainTextAsync(domain);
        await Assertions.Expect(page.Locator("#recent-scim-requests")).ToContainTextAsync("POST /scim/v2/");
        await Assertions.Expect(page.Locator("#recent-scim-requests tr.failure")).ToContainTextAsync("401");
        // samlify's certificate lives 30 days from its start, right at the edge of the warning
        // window: move the clock to 29 days before its end (the link lasts 30 days).
        var notAfter = new DateTimeOffset(idp.Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        portal.App.Clock.SetUtcNow(notAfter - TimeSpan.FromDays(29));
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("table.certificates")).ToContainTextAsync("expires soon (in 29 days)");
        await ScreenshotAsync(page, "08-status");
        Assert.Empty(csp);
        // The link's secret reached the server only in the body of the session form.
        var secret = linkUrl[(linkUrl.IndexOf('#') + 1)..];
        Assert.Contains(requested, url => url.EndsWith("/setup/session"));
        Assert.DoesNotContain(requested, url => url.Contains(secret[^43..]));
        Assert.DoesNotContain("#", page.Url);
    }

    [Fact]
    public async Task Opens_a_link_without_script_by_pasting_it_into_the_form()
    {
        await using var portal = await PortalApp.StartAsync();
        var domain = "noscript" + Guid.NewGuid().ToString("N")[..10] + ".test";
        var (_, linkUrl, _) = await portal.TenantWithLinkAsync(domain);
        var context = await chromium.Browser.NewContextAsync(new() { JavaScriptEnabled = false });
        context.SetDefaultTimeout(45_000);
        var page = await context.NewPageAsync();
        var requested = new List<string>();
        context.Request += (_, request) => requested.Add(request.Url);

        Assert.Equal(200, (await page.GotoAsync(linkUrl))!.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Open your setup link");
        await ScreenshotAsync(page, "13-open-link-without-script");
        await page.GetByLabel("Setup link").FillAsync(linkUrl);
        await page.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync();
        await page.WaitForURLAsync("**/setup/idp");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Choose your identity provider");
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("Hopper Labs");
        Assert.DoesNotContain(requested, url => url.Contains(linkUrl[^43..]));
    }

    [Fact]
    public async Task Shows_clear_pages_for_expired_and_revoked_links_and_refuses_a_forged_post()
    {
        await using var portal = await PortalApp.StartAsync();
        var domain = "refused" + Guid.NewGuid().ToString("N")[..10] + ".test";
        var (tenantId, linkUrl, linkId) = await portal.TenantWithLinkAsync(domain, expiresInHours: 1);
        var page = await NewPageAsync();

        // A forged post: the browser holds the anti-forgery cookie, but the post has no token.
        Assert.Equal(200, (await page.GotoAsync(linkUrl, new() { WaitUntil = WaitUntilState.Commit }))!.Status);
        await page.WaitForURLAsync("**/setup/idp");
        var portalUrl = portal.BaseUrl + "/setup";
        var forged = await page.Context.APIRequest.PostAsync(portalUrl + "/dsync/token", new() { Form = page.Context.APIRequest.CreateFormData() });
        Assert.Equal(403, forged.Status);
        var forgedIdp = await page.Context.APIRequest.PostAsync(portalUrl + "/idp", new()
        {
            Form = page.Context.APIRequest.CreateFormData().Set("idp", "okta"),
            Headers = new Dictionary<string, string> { ["Origin"] = "https://evil.example" },
        });
        Assert.Equal(403, forgedIdp.Status);
        await page.SetContentAsync(await forged.TextAsync());
        await ScreenshotAsync(page, "10-forged-post-refused");
        Assert.Empty(await portal.App.Get<DirectoryRecordStore>().ListDirectoriesOfTenantAsync(new TenantId(tenantId), default));
        await page.GotoAsync(linkUrl, new() { WaitUntil = WaitUntilState.Commit });
        await page.WaitForURLAsync("**/setup/idp");
        Assert.False(await page.GetByLabel("Okta", new() { Exact = true }).IsCheckedAsync());

        portal.App.Clock.Advance(TimeSpan.FromHours(2));
        // The link's page posts the secret; the session it asks for is refused.
        var expired = await page.RunAndWaitForResponseAsync(() => page.GotoAsync(linkUrl, new() { WaitUntil = WaitUntilState.Commit }), response => response.Url.EndsWith("/setup/session"));
        Assert.Equal(410, expired!.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Setup link expired");
        Assert.DoesNotContain("Hopper Labs", await page.ContentAsync());
        await ScreenshotAsync(page, "11-expired-link");

        var fresh = await portal.Admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/setup-links", new JsonObject { ["features"] = new JsonArray("sso") });
        var freshLink = (await fresh.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(200, (await page.GotoAsync(freshLink["url"]!.GetValue<string>(), new() { WaitUntil = WaitUntilState.Commit }))!.Status);
        await page.WaitForURLAsync("**/setup/idp");
        Assert.Equal(HttpStatusCode.NoContent,
            (await portal.Admin.DeleteAsync($"/api/v1/tenants/{tenantId}/setup-links/{freshLink["id"]!.GetValue<string>()}")).StatusCode);
        var revoked = await page.ReloadAsync();
        Assert.Equal(410, revoked!.Status);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Setup link revoked");
        Assert.DoesNotContain("Hopper Labs", await page.ContentAsync());
        await ScreenshotAsync(page, "12-revoked-link");
        Assert.NotEqual(linkId, freshLink["id"]!.GetValue<string>());
    }
}
