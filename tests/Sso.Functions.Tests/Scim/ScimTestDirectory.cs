using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Functions.Tests.Scim;

/// <summary>A tenant with a SCIM directory, and an HTTP client that speaks SCIM with its token.</summary>
public sealed class ScimTestDirectory
{
    public required string TenantId { get; init; }
    public required string DirectoryId { get; init; }
    public required string Token { get; init; }
    public required string TokenId { get; init; }
    public required string ScimBaseUrl { get; init; }
    public required HttpClient Scim { get; init; }
    public required HttpClient Admin { get; init; }
    public required SsoAppFactory App { get; init; }

    public string Base => $"/scim/v2/{DirectoryId}";

    public static async Task<ScimTestDirectory> CreateAsync(SsoAppFactory app, string provider = "entra", object? settings = null)
    {
        var tenant = await TestTenant.CreateAsync(app, domain: $"d{Guid.NewGuid():N}"[..16] + ".test", createSettings: settings);
        var directory = await tenant.AddDirectoryAsync(provider);
        var scim = app.CreateAnonymousClient();
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", directory["token"]!.GetValue<string>());
        return new ScimTestDirectory
        {
            TenantId = tenant.TenantId,
            DirectoryId = directory["id"]!.GetValue<string>(),
            Token = directory["token"]!.GetValue<string>(),
            TokenId = directory["tokenId"]!.GetValue<string>(),
            ScimBaseUrl = directory["scimBaseUrl"]!.GetValue<string>(),
            Scim = scim,
            Admin = tenant.Admin,
            App = app,
        };
    }

    public static StringContent Body(string json, string mediaType = "application/scim+json") => new(json, Encoding.UTF8, mediaType);

    public Task<HttpResponseMessage> PostAsync(string path, string json) => Scim.PostAsync(Base + path, Body(json));

    public Task<HttpResponseMessage> PutAsync(string path, string json) => Scim.PutAsync(Base + path, Body(json));

    public Task<HttpResponseMessage> PatchAsync(string path, string operations) =>
        Scim.PatchAsync(Base + path, Body($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{operations}}}"""));

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery) => Scim.GetAsync(Base + pathAndQuery);

    public Task<HttpResponseMessage> DeleteAsync(string path) => Scim.DeleteAsync(Base + path);

    public async Task<JsonObject> CreateUserAsync(string userName, string? externalId = null, string extra = "")
    {
        var response = await PostAsync("/Users", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}",
             "externalId":"{{externalId ?? Guid.NewGuid().ToString()}}","active":true,
             "name":{"givenName":"Given","familyName":"Family"},
             "emails":[{"primary":true,"type":"work","value":"{{userName}}"}]{{extra}}}
            """);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await ReadAsync(response);
    }

    public async Task<JsonObject> CreateGroupAsync(string displayName, params string[] memberIds)
    {
        var members = string.Join(",", memberIds.Select(id => $$"""{"value":"{{id}}"}"""));
        var response = await PostAsync("/Groups", $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"{{displayName}}","members":[{{members}}]}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await ReadAsync(response);
    }

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Asserts a SCIM error: the status, the scimType and the SCIM media type.</summary>
    public static async Task AssertScimErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? scimType)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/scim+json", response.Content.Headers.ContentType?.MediaType);
        var body = await ReadAsync(response);
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", body["schemas"]![0]!.GetValue<string>());
        Assert.Equal(((int)status).ToString(), body["status"]!.GetValue<string>());
        Assert.Equal(scimType, body["scimType"]?.GetValue<string>());
    }

    public async Task<JsonObject> DirectoryUserAsync(string userId)
    {
        var page = (await Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{DirectoryId}/users?limit=200"))!;
        return page["data"]!.AsArray().Single(u => u!["id"]!.GetValue<string>() == userId)!.AsObject();
    }

    public async Task<List<JsonObject>> EventsAsync(SsoAppFactory app)
    {
        await app.FlushAsync();
        app.Clock.Advance(TimeSpan.FromSeconds(5));
        var events = new List<JsonObject>();
        string? cursor = null;
        while (true)
        {
            var page = (await Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={TenantId}&limit=100" + (cursor is null ? "" : $"&after={cursor}")))!;
            var data = page["data"]!.AsArray();
            events.AddRange(data.Select(e => e!.AsObject()));
            if (data.Count == 0) return events;
            cursor = page["nextCursor"]!.GetValue<string>();
        }
    }
}
