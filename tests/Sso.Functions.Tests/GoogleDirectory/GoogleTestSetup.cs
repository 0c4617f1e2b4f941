using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Sso.Testing;

namespace Sso.Functions.Tests.GoogleDirectory;

/// <summary>
/// An app pointed at a fake Google of its own. A test class that needs the fake to hold exactly the
/// users it lists takes a fixture type of its own (xunit shares a fixture per type).
/// </summary>
public abstract class GoogleAppFixture(int pageSize = 2) : SsoAppFixture, IDisposable
{
    public FakeGoogleWorkspace Google { get; } = new() { PageSize = pageSize };

    protected override IDictionary<string, string?> Settings => Google.Settings;

    public void Dispose() => Google.Dispose();
}

/// <summary>
/// A google-directory directory of a test tenant: created through the management API, then
/// connected by the administrator's consent at the fake and the callback, which queues the first
/// sync (the test drains the queues when it wants it run).
/// </summary>
public sealed record GoogleTestDirectory(TestTenant Tenant, string DirectoryId, JsonObject Created)
{
    public string AuthorizeUrl => Created["authorizeUrl"]!.GetValue<string>();

    public static async Task<GoogleTestDirectory> CreateAsync(TestTenant tenant, string name = "Google")
    {
        var created = await tenant.AddDirectoryAsync("google-directory", name);
        return new GoogleTestDirectory(tenant, created["id"]!.GetValue<string>(), created);
    }

    public static async Task<GoogleTestDirectory> ConnectAsync(TestTenant tenant, FakeGoogleWorkspace google, string name = "Google")
    {
        var directory = await CreateAsync(tenant, name);
        await directory.AuthorizeAsync(google);
        return directory;
    }

    /// <summary>Consent at the fake, and the callback with its code and our state.</summary>
    public async Task AuthorizeAsync(FakeGoogleWorkspace google)
    {
        var callback = await CallbackAsync(Tenant.App, google, AuthorizeUrl);
        Assert.True(callback.StatusCode == HttpStatusCode.OK, await callback.Content.ReadAsStringAsync());
    }

    /// <summary>The administrator consents at the fake to <paramref name="authorizeUrl"/>; the browser then calls our callback.</summary>
    public static async Task<HttpResponseMessage> CallbackAsync(SsoAppFactory app, FakeGoogleWorkspace google, string authorizeUrl) =>
        await app.CreateAnonymousClient().GetAsync(
            $"/google/callback?code={Uri.EscapeDataString(google.Consent(authorizeUrl))}&state={Uri.EscapeDataString(StateOf(authorizeUrl))}");

    public static string StateOf(string authorizeUrl) => QueryHelpers.ParseQuery(new Uri(authorizeUrl).Query)["state"].ToString();
}
