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
        public string Path => new Uri(Url).AbsolutePath;
    }

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
        return new Link(created["id"]!.GetValue<string>(), url, url[(url.LastIndexOf('/') + 1)..], created);
    }

    public Task<HttpResponseMessage> RevokeAsync(Link link) => Admin.DeleteAsync($"/api/v1/tenants/{TenantId}/setup-links/{link.Id}");

    /// <summary>The hidden anti-forgery field of the first form on a page.</summary>
    public static string CsrfField(string html) =>
        CsrfInput().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new InvalidOperationException("No csrf field: " + html);

    [GeneratedRegex("""<input type="hidden" name="csrf" value="([^"]+)">""")]
    private static partial Regex CsrfInput();
}
