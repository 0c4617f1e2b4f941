using Azure.Data.Tables;
using Microsoft.Playwright;
using Sso.Functions.OperatorConsole;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Oidc;
using Sso.Functions.Tests.Setup;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// Console sign-in through the SaaS team's own OpenID Connect provider, here the npm oidc-provider
/// (its dev login accepts any login; the email is login@domain, verified): an allowed operator gets
/// a session and is audited by email; anyone else is refused and no session is written.
/// </summary>
public class ConsoleOidcSignInBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string ClientId = "sso-console";
    private const string Domain = "ops.example.test";

    private static async Task<(ConsoleApp Console, OidcProviderPeer Op)> StartAsync()
    {
        var port = AzuriteServer.FreePort();
        var secret = "console-secret-" + Guid.NewGuid().ToString("N");
        var op = await OidcProviderPeer.StartAsync(ClientId, secret, $"http://127.0.0.1:{port}" + ConsoleOidcSignIn.CallbackPath, Domain);
        var console = await ConsoleApp.StartAsync(new Dictionary<string, string?>
        {
            ["Console:Oidc:Issuer"] = op.Issuer,
            ["Console:Oidc:ClientId"] = ClientId,
            ["Console:Oidc:ClientSecret"] = secret,
            ["Console:Oidc:AllowedEmails"] = "Alice@" + Domain + ", bob@" + Domain,
            ["Console:Oidc:DisplayName"] = "Team IdP",
        }, port);
        return (console, op);
    }

    private static async Task LogInAtTheProviderAsync(IPage page, string login)
    {
        await page.Locator("input[name=login]").FillAsync(login);
        await page.Locator("input[name=password]").FillAsync("any-password");
        await page.Locator("button[type=submit]").ClickAsync();
        // oidc-provider asks for consent once per client and account.
        var consent = page.Locator("form button[type=submit]");
        await page.WaitForLoadStateAsync();
        if (page.Url.Contains("/interaction/", StringComparison.Ordinal) && await consent.CountAsync() > 0) await consent.First.ClickAsync();
    }

    private static async Task<int> SessionCountAsync(ConsoleApp console)
    {
        var table = await console.App.Get<TableStorage>().GetTableAsync(TableNames.ConsoleSessions, default);
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>("RowKey eq 'session'")) count++;
        return count;
    }

    [Fact]
    public async Task An_allowed_operator_signs_in_through_the_teams_OpenID_provider()
    {
        var (console, op) = await StartAsync();
        await using var _ = console;
        await using var __ = op;
        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);

        await page.GotoAsync(console.Url("/console/tenants"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Team IdP" }).ClickAsync();
        await page.WaitForURLAsync(op.Issuer + "/**");
        await LogInAtTheProviderAsync(page, "alice");

        await page.WaitForURLAsync(console.Url("/console/tenants"));
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Tenants");
        await Assertions.Expect(page.Locator("header .who")).ToHaveTextAsync("alice@" + Domain);
        Assert.Equal(1, await SessionCountAsync(console));
        await console.App.FlushAsync();
        var trail = await console.Admin.GetStringAsync("/api/v1/audit");
        Assert.Contains("\"kind\":\"operator\",\"id\":\"alice@" + Domain + "\"", trail);
    }

    [Fact]
    public async Task An_operator_whose_email_is_not_allowed_is_refused_and_gets_no_session()
    {
        var (console, op) = await StartAsync();
        await using var _ = console;
        await using var __ = op;
        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);

        await page.GotoAsync(console.Url("/console/sign-in"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with Team IdP" }).ClickAsync();
        await page.WaitForURLAsync(op.Issuer + "/**");
        await LogInAtTheProviderAsync(page, "mallory");

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("mallory@" + Domain + " is not an operator of this console");
        await ConsoleBrowser.ScreenshotAsync(page, "sign-in-oidc-refused");
        Assert.Equal(0, await SessionCountAsync(console));
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == ConsoleSessionGate.CookieName);
        await page.GotoAsync(console.Url("/console/tenants"));
        await page.WaitForURLAsync("**/console/sign-in?return=*");
    }
}
