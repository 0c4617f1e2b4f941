using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Sso.Testing;

/// <summary>
/// A tenant made through the management API, and what hangs off it, a line each:
/// <code>
/// var tenant = await TestTenant.CreateAsync(app);
/// var client = await tenant.AddClientAsync();
/// var connection = await tenant.AddConnectionAsync(new JsonObject { ["type"] = "saml", ... });
/// var directory = await tenant.AddDirectoryAsync();
/// </code>
/// Every step asserts the API's answer, with the body in the message when it is not the expected one.
/// </summary>
public sealed class TestTenant
{
    public const string RedirectUri = "https://app.example.test/callback";

    private TestTenant(SsoAppFactory app, HttpClient admin, string tenantId, string domain)
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

    /// <summary>A unique domain under <c>.test</c> that starts with <paramref name="prefix"/>.</summary>
    public static string UniqueDomain(string prefix = "acme") => prefix + Guid.NewGuid().ToString("N")[..10] + ".test";

    /// <summary>
    /// POST /api/v1/tenants with one domain. <paramref name="createSettings"/> goes in the create
    /// body, which takes settings only whole (a partial object leaves the rest at their create
    /// defaults); to change some settings of the usual tenant, <see cref="PatchSettingsAsync"/>.
    /// </summary>
    public static async Task<TestTenant> CreateAsync(SsoAppFactory app, string name = "Acme", string? domain = null,
        object? createSettings = null, HttpClient? admin = null)
    {
        admin ??= app.CreateAdminClient();
        domain ??= UniqueDomain();
        var body = new JsonObject { ["name"] = name, ["domains"] = new JsonArray(domain) };
        if (createSettings is not null) body["settings"] = JsonSerializerNode(createSettings);
        var response = await admin.PostAsJsonAsync("/api/v1/tenants", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var tenantId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        return new TestTenant(app, admin, tenantId, domain);
    }

    /// <summary>A tenant that already exists (made by the API or by an earlier step of the test).</summary>
    public static TestTenant Of(SsoAppFactory app, HttpClient admin, string tenantId, string domain) =>
        new(app, admin, tenantId, domain);

    /// <summary>PATCH the tenant's settings: only the named ones change.</summary>
    public async Task<TestTenant> PatchSettingsAsync(JsonObject settings)
    {
        var patched = await Admin.PatchAsync($"/api/v1/tenants/{TenantId}",
            JsonContent.Create(new JsonObject { ["settings"] = settings.DeepClone() }));
        Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        return this;
    }

    /// <summary>An OAuth client (clients are not a tenant's, but every sign-in test needs one).</summary>
    public Task<TestClient> AddClientAsync(string name = "Product", string redirectUri = RedirectUri) =>
        AddClientAsync(new { name, redirectUris = new[] { redirectUri } });

    /// <summary>An OAuth client from a whole create body.</summary>
    public async Task<TestClient> AddClientAsync(object body)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/clients", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var view = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return new TestClient(view["clientId"]!.GetValue<string>(), view["clientSecret"]!.GetValue<string>(), view);
    }

    /// <summary>POST a connection; asserts 201 and returns the connection as the API answered it.</summary>
    public async Task<JsonObject> AddConnectionAsync(JsonObject body)
    {
        var response = await PostConnectionAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    public Task<HttpResponseMessage> PostConnectionAsync(JsonObject body) =>
        Admin.PostAsJsonAsync($"/api/v1/tenants/{TenantId}/connections", body);

    /// <summary>A SCIM directory with its first token; returns the API's answer (id, token, tokenId, scimBaseUrl).</summary>
    public async Task<JsonObject> AddDirectoryAsync(string provider = "entra", string name = "Corp IdP")
    {
        var response = await Admin.PostAsJsonAsync($"/api/v1/tenants/{TenantId}/directories", new { name, provider });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static JsonNode? JsonSerializerNode(object value) =>
        value as JsonNode ?? System.Text.Json.JsonSerializer.SerializeToNode(value, WebJson);

    private static readonly System.Text.Json.JsonSerializerOptions WebJson = new(System.Text.Json.JsonSerializerDefaults.Web);
}

/// <summary>An OAuth client as created: its id, its secret (shown once) and the whole answer.</summary>
public sealed record TestClient(string ClientId, string ClientSecret, JsonObject View);
