using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Sso.Functions.OperatorConsole;
using Sso.Functions.Tests.Setup;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// Forms the console must refuse, in the browser: a page whose session ended (the fake clock moves
/// past the idle limit) and a page whose anti-forgery token was tampered with. Neither writes.
/// </summary>
public class ConsoleRefusedFormBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static async Task<bool> TenantNamedExistsAsync(ConsoleApp console, string name)
    {
        var list = await console.Admin.GetFromJsonAsync<JsonObject>("/api/v1/tenants?limit=200");
        return list!["data"]!.AsArray().Any(t => t!["name"]!.GetValue<string>() == name);
    }

    [Fact]
    public async Task A_form_sent_after_the_session_ended_creates_nothing_and_asks_to_sign_in_again()
    {
        await using var console = await ConsoleApp.StartAsync();
        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);
        await ConsoleBrowser.SignInAsync(page, console, path: TenantCreatePage.Path);
        await page.GetByLabel("Name").FillAsync("Too Late Inc");
        await page.GetByLabel("Email domains").FillAsync(TestTenant.UniqueDomain("late"));
        await ConsoleBrowser.ScreenshotAsync(page, "new-tenant");

        console.App.Clock.Advance(ConsoleSession.IdleLifetime + TimeSpan.FromMinutes(1));
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Signed out");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("nothing was changed");
        Assert.False(await TenantNamedExistsAsync(console, "Too Late Inc"));
    }

    [Fact]
    public async Task A_form_with_a_tampered_anti_forgery_token_creates_nothing()
    {
        await using var console = await ConsoleApp.StartAsync();
        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);
        await ConsoleBrowser.SignInAsync(page, console, path: TenantCreatePage.Path);
        await page.GetByLabel("Name").FillAsync("Forged Inc");
        // A different first character, whatever the token's own first character is.
        await page.Locator("main input[name=csrf]").EvaluateAsync("field => field.value = (field.value[0] === 'x' ? 'y' : 'x') + field.value.slice(1)");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Request refused");
        await ConsoleBrowser.ScreenshotAsync(page, "refused-form");
        Assert.False(await TenantNamedExistsAsync(console, "Forged Inc"));
    }
}
