using System.Net;
using Sso.Functions.Hosting;
using Sso.Testing;

namespace Sso.Functions.Tests.Hosting;

public class StrictTransportSecurityTests
{
    [Fact]
    public async Task Sends_hsts_on_every_answer_when_the_public_base_url_is_https()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await using var app = new SsoAppFactory(azurite, new Dictionary<string, string?>
        {
            ["Sso:PublicBaseUrl"] = "https://sso.example.com",
        });
        // The test server speaks plain http, as the Functions host does to the handler.
        var client = app.CreateAnonymousClient();

        var ok = await client.GetAsync("/health");
        var unknown = await client.GetAsync("/no-such-route");
        var unauthorized = await client.GetAsync("/api/v1/tenants");

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        foreach (var response in new[] { ok, unknown, unauthorized })
            Assert.Equal(StrictTransportSecurity.HeaderValue,
                Assert.Single(response.Headers.GetValues("Strict-Transport-Security")));
    }

    [Fact]
    public async Task Sends_no_hsts_when_the_public_base_url_is_http_loopback()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        await using var app = new SsoAppFactory(azurite, new Dictionary<string, string?>
        {
            ["Sso:PublicBaseUrl"] = SsoOptions.LocalBaseUrl,
        });
        var client = app.CreateAnonymousClient();

        var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }
}
