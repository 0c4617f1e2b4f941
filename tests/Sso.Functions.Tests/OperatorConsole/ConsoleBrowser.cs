using System.Net;
using Microsoft.Playwright;
using Sso.Testing;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// The app on a real loopback socket (its public base URL is that socket, so redirects land), for
/// the console's browser tests: Debian's chromium through <see cref="Setup.ChromiumFixture"/>.
/// </summary>
public sealed class ConsoleApp : IAsyncDisposable
{
    private ConsoleApp(SsoAppFactory app, string baseUrl)
    {
        App = app;
        BaseUrl = baseUrl;
        // On Kestrel the factory's in-memory clients have no server; the API is reached on the socket.
        Admin = new HttpClient { BaseAddress = new Uri(baseUrl) };
        Admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", SsoAppFactory.AdminKey);
    }

    public SsoAppFactory App { get; }
    public string BaseUrl { get; }

    /// <summary>The management API with the admin key, for arranging state and checking what the console changed.</summary>
    public HttpClient Admin { get; }

    /// <param name="port">A free loopback port chosen beforehand (when a peer must know the app's URL first).</param>
    public static async Task<ConsoleApp> StartAsync(IDictionary<string, string?>? settings = null, int? port = null)
    {
        port ??= AzuriteServer.FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var all = new Dictionary<string, string?> { ["Sso:PublicBaseUrl"] = baseUrl };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        var app = new SsoAppFactory(await AzuriteServer.Shared, all);
        app.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port.Value));
        app.StartServer();
        return new ConsoleApp(app, baseUrl);
    }

    public string Url(string path) => BaseUrl + path;

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await App.DisposeAsync();
    }
}

/// <summary>What every console browser test does: a laptop-sized page, sign-in with the admin key, screenshots.</summary>
public static class ConsoleBrowser
{
    public static readonly string Screenshots = Path.Combine(RepositoryPaths.Artifacts, "screenshots");

    /// <summary>A fresh browser context (no cookies) at a laptop's size.</summary>
    public static async Task<IPage> NewPageAsync(IBrowser browser, int width = 1280, int height = 800)
    {
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs in on /console/sign-in with <paramref name="adminKey"/> (the test admin key by default) and waits to land on the console.</summary>
    public static async Task SignInAsync(IPage page, ConsoleApp console, string? adminKey = null, string path = "/console/tenants")
    {
        await page.GotoAsync(console.Url("/console/sign-in?return=" + Uri.EscapeDataString(path)));
        await page.GetByLabel("Admin key").FillAsync(adminKey ?? SsoAppFactory.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/console/sign-in", StringComparison.Ordinal));
    }

    /// <summary>Saves a full-page screenshot as artifacts/screenshots/console-<paramref name="name"/>.png.</summary>
    public static Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        return page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "console-" + name + ".png"), FullPage = true });
    }
}
