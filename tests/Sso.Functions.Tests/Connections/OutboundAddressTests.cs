using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sso.Functions.Hosting;
using Sso.Functions.Tests.Hosting;
using Sso.Functions.Tests.Oidc;
using Sso.Functions.Tests.Saml;
using Sso.Functions.Tests.Setup;
using Sso.Testing;

namespace Sso.Functions.Tests.Connections;

/// <summary>The app as it runs in Azure (Production), with a resolver the test controls.</summary>
public sealed class ProductionAppFixture : SsoAppFixture
{
    public FakeResolver Resolver { get; } = new(new()
    {
        ["loopback.customer.test"] = [IPAddress.Loopback],
        ["intranet.customer.test"] = [IPAddress.Parse("10.0.0.5")],
        ["imds.customer.test"] = [IPAddress.Parse("169.254.169.254")],
    });

    protected override SsoAppFactory CreateFactory(AzuriteServer azurite) => new(azurite, Settings)
    {
        EnvironmentName = "Production",
        TestServices = services => services.AddSingleton(provider => new OutboundConnectGuard(
            provider.GetRequiredService<SsoOptions>().AllowLoopbackHttp, Resolver.ResolveAsync,
            provider.GetRequiredService<ILogger<OutboundConnectGuard>>())),
    };
}

/// <summary>
/// Issue 18.9: in Production a metadata URL or an issuer that leads to loopback, a private network
/// or the cloud metadata service is refused before any socket opens, with one sentence that does
/// not say why.
/// </summary>
public class OutboundAddressProductionTests(ProductionAppFixture fixture) : IClassFixture<ProductionAppFixture>
{
    private const string Generic = "could not be reached from this service (it must be a public https address that answers within 5 s)";
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private async Task<string> TenantAsync()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants",
            new { name = "Acme", domains = new[] { "o" + Guid.NewGuid().ToString("N")[..12] + ".test" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    [Fact]
    public void Runs_as_production()
    {
        Assert.False(fixture.App.Get<SsoOptions>().AllowLoopbackHttp);
        Assert.False(fixture.App.Get<OutboundConnectGuard>().AllowLoopback);
    }

    [Fact]
    public async Task Refuses_metadata_urls_that_lead_to_loopback_private_or_metadata_addresses_without_connecting()
    {
        var tenantId = await TenantAsync();
        using var listener = new CountingTcpListener();
        var urls = new[]
        {
            $"https://127.0.0.1:{listener.Port}/metadata",
            $"https://[::ffff:127.0.0.1]:{listener.Port}/metadata",
            $"https://[::1]:{listener.Port}/metadata",
            $"https://loopback.customer.test:{listener.Port}/metadata",
            "https://169.254.169.254/metadata/instance",
            "https://imds.customer.test/metadata",
            "https://intranet.customer.test/metadata",
        };
        var clock = Stopwatch.StartNew();
        foreach (var url in urls)
        {
            var response = await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections",
                new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = url });
            var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True(response.StatusCode == (HttpStatusCode)422, $"{url}: {(int)response.StatusCode} {body}");
            Assert.EndsWith("/idp-metadata-unavailable", body["type"]!.GetValue<string>());
            Assert.Equal($"idpMetadataUrl: the metadata URL {Generic}.", body["detail"]!.GetValue<string>());
        }
        // A connect to 169.254.169.254 or 10.0.0.5 would have sat out the 5 s timeout at least once.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(0, listener.Accepted);
        // The names were resolved by the connecting handler itself, where the check is made.
        Assert.Contains("loopback.customer.test", fixture.Resolver.Asked);
        Assert.Contains("intranet.customer.test", fixture.Resolver.Asked);
        var list = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections");
        Assert.Empty(list!["data"]!.AsArray());
    }

    [Fact]
    public async Task Refuses_an_oidc_issuer_on_loopback_or_at_the_metadata_address_without_connecting()
    {
        var tenantId = await TenantAsync();
        using var listener = new CountingTcpListener();
        foreach (var issuer in new[] { $"https://127.0.0.1:{listener.Port}", $"https://loopback.customer.test:{listener.Port}", "https://169.254.169.254" })
        {
            var response = await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections", new JsonObject
            {
                ["type"] = "oidc", ["issuer"] = issuer, ["clientId"] = "c", ["clientSecret"] = "s",
            });
            var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True(response.StatusCode == (HttpStatusCode)422, $"{issuer}: {(int)response.StatusCode} {body}");
            Assert.EndsWith("/oidc-discovery-failed", body["type"]!.GetValue<string>());
            Assert.Equal($"{issuer}/.well-known/openid-configuration: The IdP's URL {Generic}.", body["detail"]!.GetValue<string>());
        }
        Assert.Equal(0, listener.Accepted);
    }

    [Fact]
    public async Task Shows_the_setup_portal_user_the_same_sentence()
    {
        var tenant = await SetupPortalTenant.CreateAsync(fixture.App);
        var link = await tenant.CreateLinkAsync(["sso"]);
        var browser = fixture.App.CreateAnonymousClient();
        var field = SetupPortalTenant.CsrfField(await SetupPortalTenant.OpenPageAsync(browser, link));
        var chosen = await browser.PostAsync(link.Path + "/idp", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field, ["idp"] = "okta" }));
        Assert.Equal(HttpStatusCode.SeeOther, chosen.StatusCode);

        var response = await browser.PostAsync(link.Path + "/sso", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrf"] = field, ["metadataUrl"] = "https://169.254.169.254/metadata/instance",
        }));
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.Contains(WebUtility.HtmlEncode($"the metadata URL {Generic}"), html);
        Assert.DoesNotContain("LinkLocal", html);
        Assert.DoesNotContain("ConnectionError", html);
    }
}

/// <summary>What a setup-link holder can learn about the network in Development, where loopback is allowed.</summary>
public class OutboundFailureTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private async Task<string> TenantAsync()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants",
            new { name = "Acme", domains = new[] { "r" + Guid.NewGuid().ToString("N")[..12] + ".test" } });
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private async Task<(HttpStatusCode Status, string Detail)> CreateAsync(string tenantId, JsonObject body)
    {
        var response = await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections", body);
        var json = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        return (response.StatusCode, json["detail"]?.GetValue<string>() ?? json.ToJsonString());
    }

    [Fact]
    public async Task Does_not_follow_a_metadata_redirect()
    {
        var tenantId = await TenantAsync();
        using var target = new RecordingHttpReceiver();
        target.Responder = _ => new ScriptedResponse(200, new() { ["Content-Type"] = "application/samlmetadata+xml" }, new SamlTestIdp().MetadataXml());
        using var redirecting = new RecordingHttpReceiver();
        redirecting.Responder = _ => new ScriptedResponse(302, new() { ["Location"] = target.BaseUrl + "metadata" });

        var (status, detail) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = redirecting.BaseUrl + "metadata" });

        Assert.Equal((HttpStatusCode)422, status);
        Assert.Contains("HTTP 302; redirects are not followed", detail);
        Assert.Single(redirecting.Requests);
        Assert.Empty(target.Requests);
    }

    [Fact]
    public async Task Does_not_follow_a_discovery_redirect()
    {
        var tenantId = await TenantAsync();
        await using var op = await FakeOp.StartAsync();
        using var redirecting = new RecordingHttpReceiver();
        redirecting.Responder = r => new ScriptedResponse(307, new() { ["Location"] = op.Issuer + r.PathAndQuery });

        var (status, detail) = await CreateAsync(tenantId, new JsonObject
        {
            ["type"] = "oidc", ["issuer"] = redirecting.BaseUrl.TrimEnd('/'), ["clientId"] = FakeOp.ClientId, ["clientSecret"] = FakeOp.ClientSecret,
        });

        Assert.Equal((HttpStatusCode)422, status);
        Assert.Contains("307", detail);
        Assert.Single(redirecting.Requests);
    }

    [Fact]
    public async Task Says_the_same_for_a_closed_port_and_a_port_that_never_answers()
    {
        var tenantId = await TenantAsync();
        using var silent = new CountingTcpListener();
        var closed = AzuriteServer.FreePort();

        var (closedStatus, closedDetail) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = $"http://127.0.0.1:{closed}/metadata" });
        var (silentStatus, silentDetail) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = $"http://127.0.0.1:{silent.Port}/metadata" });

        Assert.Equal((HttpStatusCode)422, closedStatus);
        Assert.Equal(closedStatus, silentStatus);
        Assert.Equal(closedDetail, silentDetail);
        Assert.Equal(1, silent.Accepted);

        var (oidcClosedStatus, oidcClosed) = await CreateAsync(tenantId, new JsonObject
        {
            ["type"] = "oidc", ["issuer"] = $"http://127.0.0.1:{closed}", ["clientId"] = "c", ["clientSecret"] = "s",
        });
        // The OIDC fetch's deadline runs on the service clock: once the silent port took the connection, it passes.
        var silentCreate = CreateAsync(tenantId, new JsonObject
        {
            ["type"] = "oidc", ["issuer"] = $"http://127.0.0.1:{silent.Port}", ["clientId"] = "c", ["clientSecret"] = "s",
        });
        await Poll.UntilAsync(() => silent.Accepted == 2, TimeSpan.FromSeconds(30), () => "the discovery request never reached the silent port");
        fixture.App.Clock.Advance(Sso.Functions.Oidc.IdpHttpClient.Timeout);
        var (_, oidcSilent) = await silentCreate.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((HttpStatusCode)422, oidcClosedStatus);
        Assert.Equal(oidcClosed.Replace(closed.ToString(), "PORT"), oidcSilent.Replace(silent.Port.ToString(), "PORT"));
    }
}
