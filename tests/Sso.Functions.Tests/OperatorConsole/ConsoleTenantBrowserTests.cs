using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sso.Functions.Tests.Setup;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// The console in chromium against the real app over Azurite, as an operator uses it: sign in with
/// the admin key, find and create tenants, add a domain and see its TXT record, issue and revoke a
/// setup link. What the console did is checked through the management API.
/// </summary>
public class ConsoleTenantBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Signs_in_with_the_admin_key_creates_a_tenant_and_sees_its_new_domain_pending_with_the_TXT_record()
    {
        await using var console = await ConsoleApp.StartAsync();
        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);
        var csp = new List<string>();
        page.Console += (_, message) => { if (message.Text.Contains("Content Security Policy")) csp.Add(message.Text); };

        await page.GotoAsync(console.Url("/console/tenants"));
        await page.WaitForURLAsync("**/console/sign-in?return=*");
        await ConsoleBrowser.ScreenshotAsync(page, "sign-in");
        await ConsoleBrowser.SignInAsync(page, console);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Tenants");
        await Assertions.Expect(page.Locator("header .who")).ToContainTextAsync("key_");

        var domain = TestTenant.UniqueDomain("hopper");
        await page.GetByRole(AriaRole.Link, new() { Name = "New tenant" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("Hopper Labs");
        await page.GetByLabel("Email domains").FillAsync("not a domain!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();
        // The API's own validation message, as the form's error; nothing created.
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("domains:");
        await ConsoleBrowser.ScreenshotAsync(page, "new-tenant-refused");
        await page.GetByLabel("Email domains").FillAsync(domain);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Hopper Labs");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The tenant was created");
        var tenantId = page.Url.Split('/', '?')[5];
        var second = "mail." + domain;
        await page.GetByLabel("Add a domain").FillAsync(second);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add domain" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The domain was added");
        var row = page.Locator($"tr[data-domain=\"{second}\"]");
        await Assertions.Expect(row).ToContainTextAsync("pending");
        await Assertions.Expect(row).ToContainTextAsync("_sso-challenge." + second);

        var domains = await console.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/domains");
        var claim = domains!["data"]!.AsArray().Single(d => d!["domain"]!.GetValue<string>() == second)!;
        Assert.Equal("pending", claim["status"]!.GetValue<string>());
        await Assertions.Expect(row).ToContainTextAsync(claim["challenge"]!.GetValue<string>());

        // No TXT record is published here: Verify answers with the API's reason and leaves it pending.
        await row.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("_sso-challenge." + second);
        await ConsoleBrowser.ScreenshotAsync(page, "tenant-domains");

        await page.GotoAsync(console.Url("/console/tenants?q=" + Uri.EscapeDataString(second)));
        await Assertions.Expect(page.Locator("table.tenants")).ToContainTextAsync("Hopper Labs");
        await ConsoleBrowser.ScreenshotAsync(page, "tenants");
        await page.GotoAsync(console.Url("/console/tenants?q=nothing-matches-this"));
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("No tenant matches");
        Assert.Empty(csp);
    }

    [Fact]
    public async Task A_wrong_admin_key_stays_on_the_sign_in_page_with_an_error()
    {
        await using var console = await ConsoleApp.StartAsync();
        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);
        await page.GotoAsync(console.Url("/console/sign-in"));
        await page.GetByLabel("Admin key").FillAsync("not-the-admin-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not an admin key");
        await ConsoleBrowser.ScreenshotAsync(page, "sign-in-refused");
        var cookies = await page.Context.CookiesAsync();
        Assert.DoesNotContain(cookies, c => c.Name == Functions.OperatorConsole.ConsoleSessionGate.CookieName);
        await page.GotoAsync(console.Url("/console/tenants"));
        await page.WaitForURLAsync("**/console/sign-in?return=*");
    }

    [Fact]
    public async Task Creates_a_setup_link_shows_its_url_once_and_revokes_it()
    {
        await using var console = await ConsoleApp.StartAsync();
        var tenant = await TestTenant.CreateAsync(console.App, "Lovelace Ltd", admin: console.Admin);
        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);
        await ConsoleBrowser.SignInAsync(page, console, path: "/console/tenants/" + tenant.TenantId);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Lovelace Ltd");

        await page.GetByLabel("Directory sync").UncheckAsync();
        await page.GetByLabel("Expires in (hours)").FillAsync("48");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create setup link" }).ClickAsync();
        var url = await page.Locator("#new-setup-link").TextContentAsync();
        Assert.StartsWith(console.BaseUrl + "/setup#sso_setup_" + tenant.TenantId + ".", url);
        // The copy button runs the script the console shares with the setup portal (Hosting/BrowserAssets).
        await page.Locator("button[data-copy='new-setup-link']").ClickAsync();
        await Assertions.Expect(page.Locator("button[data-copy='new-setup-link']")).ToHaveTextAsync("Copied");
        await ConsoleBrowser.ScreenshotAsync(page, "tenant-setup-link");

        var links = (await console.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}/setup-links"))!["data"]!.AsArray();
        var link = Assert.Single(links)!;
        Assert.Equal(["sso"], link["features"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("active", link["status"]!.GetValue<string>());
        // The URL's secret is shown on that one answer: a reload shows the link without it.
        await page.GotoAsync(console.Url("/console/tenants/" + tenant.TenantId));
        Assert.DoesNotContain(url!, await page.ContentAsync());

        var linkId = link["id"]!.GetValue<string>();
        await page.Locator($"tr[data-link=\"{linkId}\"]").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The setup link was revoked");
        await Assertions.Expect(page.Locator($"tr[data-link=\"{linkId}\"]")).ToContainTextAsync("revoked");
        links = (await console.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}/setup-links"))!["data"]!.AsArray();
        Assert.Equal("revoked", links.Single()!["status"]!.GetValue<string>());
        // The revoked link no longer opens the portal.
        var opened = await page.GotoAsync(url!);
        await page.WaitForLoadStateAsync();
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Setup link revoked");
    }
}
