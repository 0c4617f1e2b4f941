using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sso.Testing;

namespace Sso.Functions.Tests.Setup;

/// <summary>A tenant on a running app and the setup links made for it through the management API.</summary>
public sealed partial class SetupPortalTenant
{
    private SetupPortalTenant(SsoAppFactory app, HttpClient admin, string tenantId, string domain)
    {
        App = app;
        Admin = admin;
        TenantId = tenantId;
        Domain = domain;
    }

    public SsoAppFactory App { get; }
    public HttpClient Admin { get; }
    public string TenantId { get; }
    public string Domain { get; }

    public sealed record Link(string Id, string Url, string Token, JsonObject Body)
    {
        /// <summary>The wizard's base path, <c>/setup</c>: the link's secret is in its fragment, never in a path.</summary>
        public string Path => new Uri(Url).AbsolutePath;
    }

    /// <summary>
    /// Opens a link as its page's script does: the secret from the fragment, posted once in a form
    /// body for the session cookie; then follows to the wizard's first page.
    /// </summary>
    public static async Task<HttpResponseMessage> OpenAsync(HttpClient browser, Link link)
    {
        var opened = await OpenSessionAsync(browser, link.Token);
        return opened.StatusCode == HttpStatusCode.SeeOther ? await browser.GetAsync(opened.Headers.Location!.OriginalString) : opened;
    }

    /// <summary>The wizard's first page of a freshly opened link.</summary>
    public static async Task<string> OpenPageAsync(HttpClient browser, Link link)
    {
        var page = await OpenAsync(browser, link);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        return html;
    }

    /// <summary>The session exchange alone: <c>POST /setup/session</c> with what the admin pasted (or the script read).</summary>
    public static Task<HttpResponseMessage> OpenSessionAsync(HttpClient browser, string pasted) =>
        browser.PostAsync("/setup/session", new FormUrlEncodedContent([new("link", pasted)]));

    public static async Task<SetupPortalTenant> CreateAsync(SsoAppFactory app, JsonObject? settings = null)
    {
        var tenant = await TestTenant.CreateAsync(app, "Hopper Labs", TestTenant.UniqueDomain("portal"));
        if (settings is not null) await tenant.PatchSettingsAsync(settings);
        return new SetupPortalTenant(app, tenant.Admin, tenant.TenantId, tenant.Domain);
    }

    public async Task<Link> CreateLinkAsync(string[]? features = null, int? expiresInHours = null)
    {
        var body = new JsonObject { ["features"] = new JsonArray((features ?? ["sso", "dsync"]).Select(f => (JsonNode?)f).ToArray()) };
        if (expiresInHours is { } hours) body["expiresInHours"] = hours;
        var response = await Admin.PostAsJsonAsync($"/api/v1/tenants/{TenantId}/setup-links", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var url = created["url"]!.GetValue<string>();
        return new Link(created["id"]!.GetValue<string>(), url, url[(url.IndexOf('#') + 1)..], created);
    }

    public Task<HttpResponseMessage> RevokeAsync(Link link) => Admin.DeleteAsync($"/api/v1/tenants/{TenantId}/setup-links/{link.Id}");

    /// <summary>The hidden anti-forgery field of the first form on a page.</summary>
    public static string CsrfField(string html) =>
        CsrfInput().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new InvalidOperationException("No csrf field: " + html);

    [GeneratedRegex("""<input type="hidden" name="csrf" value="([^"]+)">""")]
    private static partial Regex CsrfInput();
}
