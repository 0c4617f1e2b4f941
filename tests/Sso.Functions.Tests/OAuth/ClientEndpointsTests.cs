using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

public class ClientEndpointsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    [Fact]
    public async Task Registers_a_client_and_shows_its_secret_once()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/clients",
            new { name = "Product", redirectUris = new[] { "https://app.example.com/callback", "http://127.0.0.1:3000/cb" } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonObject>();
        var clientId = created!["clientId"]!.GetValue<string>();
        var secret = created["clientSecret"]!.GetValue<string>();
        Assert.StartsWith("cli_", clientId);
        Assert.True(secret.Length >= 40);

        var read = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/clients/{clientId}");
        Assert.Null(read!["clientSecret"]);
        Assert.DoesNotContain(secret, read.ToJsonString());

        var stored = await fixture.App.Get<ClientStore>().FindAsync(new ClientId(clientId), default);
        Assert.True(stored!.SecretMatches(secret));
        Assert.False(stored.SecretMatches(secret + "x"));
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "clients");
        var row = await table.GetEntityAsync<TableEntity>(clientId, OAuthClient.RowKey);
        Assert.DoesNotContain(secret, string.Join("|", row.Value.Select(v => v.Value?.ToString())));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), row.Value.GetString("SecretHash"));
    }

    public static TheoryData<string, string> BadRedirectUris => new()
    {
        { "relative", "/callback" },
        { "plain http on a public host", "http://app.example.com/callback" },
        { "a fragment", "https://app.example.com/cb#frag" },
        { "a script scheme", "javascript:alert(1)" },
        { "user information", "https://user:pass@app.example.com/cb" },
        { "empty", "" },
        { "a custom scheme", "myapp://callback" },
    };

    [Theory]
    [MemberData(nameof(BadRedirectUris))]
    public async Task Refuses_a_bad_redirect_uri_with_400_problem(string _, string redirectUri)
    {
        var name = "Bad " + Guid.NewGuid().ToString("N");
        var response = await _admin.PostAsJsonAsync("/api/v1/clients",
            new { name, redirectUris = new[] { "https://ok.example.com/cb", redirectUri } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "clients");
        await table.CreateIfNotExistsAsync();
        Assert.Empty(table.Query<TableEntity>(e => e.GetString("Name") == name).ToList());
    }

    [Fact]
    public async Task Registers_post_logout_redirect_uris_and_refuses_a_bad_one_with_400_problem()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/clients", new
        {
            name = "Product", redirectUris = new[] { "https://app.example.com/cb" },
            postLogoutRedirectUris = new[] { "https://app.example.com/signed-out" },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var clientId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["clientId"]!.GetValue<string>();
        var read = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/clients/{clientId}");
        Assert.Equal("https://app.example.com/signed-out", read!["postLogoutRedirectUris"]![0]!.GetValue<string>());
        var stored = await fixture.App.Get<ClientStore>().FindAsync(new ClientId(clientId), default);
        Assert.True(stored!.HasPostLogoutRedirectUri("https://app.example.com/signed-out"));
        Assert.False(stored.HasPostLogoutRedirectUri("https://app.example.com/signed-out/"));

        var name = "Bad " + Guid.NewGuid().ToString("N");
        var bad = await _admin.PostAsJsonAsync("/api/v1/clients", new
        {
            name, redirectUris = new[] { "https://app.example.com/cb" }, postLogoutRedirectUris = new[] { "http://app.example.com/bye" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Contains("postLogoutRedirectUris", await bad.Content.ReadAsStringAsync());
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "clients");
        Assert.Empty(table.Query<TableEntity>(e => e.GetString("Name") == name).ToList());
    }

    [Theory]
    [InlineData("""{"name":"X"}""")]
    [InlineData("""{"name":"X","redirectUris":[]}""")]
    [InlineData("""{"redirectUris":["https://a.example/cb"]}""")]
    [InlineData("""{"name":"X","redirectUris":["https://a.example/cb"],"secret":"chosen"}""")]
    [InlineData("""{"name":"X","redirectUris":"https://a.example/cb"}""")]
    public async Task Refuses_an_incomplete_or_unknown_body_with_400(string body)
    {
        var response = await _admin.PostAsync("/api/v1/clients", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Deletes_a_client()
    {
        var created = await (await _admin.PostAsJsonAsync("/api/v1/clients",
            new { name = "Temporary", redirectUris = new[] { "https://t.example/cb" } })).Content.ReadFromJsonAsync<JsonObject>();
        var clientId = created!["clientId"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/clients/{clientId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/v1/clients/{clientId}")).StatusCode);
    }
}

public class ClientRedirectPolicyOutsideDevelopmentTests
{
    [Fact]
    public async Task Refuses_loopback_http_outside_development()
    {
        await using var app = new ProductionApp(await AzuriteServer.Shared);
        var response = await app.CreateAdminClient().PostAsJsonAsync("/api/v1/clients",
            new { name = "Local", redirectUris = new[] { "http://127.0.0.1:3000/cb" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private sealed class ProductionApp(AzuriteServer azurite) : SsoAppFactory(azurite)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
        }
    }
}
