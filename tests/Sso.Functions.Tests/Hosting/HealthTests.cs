using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Functions.Tests.Hosting;

public class HealthTests
{
    [Fact]
    public async Task Turns_503_while_storage_is_down_and_200_when_it_is_back()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await using var app = new SsoAppFactory(azurite);
        var client = app.CreateAnonymousClient();

        var up = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        Assert.Equal("ok", (await up.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());

        await azurite.StopAsync();
        var down = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("unavailable", (await down.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());

        await azurite.RestartAsync();
        var back = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    [Fact]
    public async Task A_management_call_while_storage_is_down_is_503_problem_not_500()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await using var app = new SsoAppFactory(azurite, new Dictionary<string, string?>());
        var admin = app.CreateAdminClient();
        await azurite.StopAsync();

        var response = await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Offline", domains = new[] { "offline.test" } });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
