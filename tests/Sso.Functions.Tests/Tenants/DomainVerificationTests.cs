using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Tenants;
using Sso.Testing;

namespace Sso.Functions.Tests.Tenants;

public sealed class DomainVerificationFixture : SsoAppFixture, IDisposable
{
    public LoopbackDnsServer Dns { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Dns:NameServers"] = Dns.NameServerSetting,
    };

    public void Dispose() => Dns.Dispose();
}

public class DomainVerificationTests(DomainVerificationFixture fixture) : IClassFixture<DomainVerificationFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private static string UniqueDomain() => $"v{Guid.NewGuid():N}"[..18] + ".test";

    private async Task<(string Id, string Domain)> CreateTenantAsync(bool requireVerified = true)
    {
        var domain = UniqueDomain();
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants",
            new { name = "Verifier", domains = new[] { domain }, settings = new { requireVerifiedDomains = requireVerified } });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var tenant = await response.Content.ReadFromJsonAsync<JsonObject>();
        return (tenant!["id"]!.GetValue<string>(), domain);
    }

    private async Task<JsonObject> DomainAsync(string tenantId) =>
        (await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/domains"))!["data"]![0]!.AsObject();

    [Fact]
    public async Task A_new_domain_is_pending_with_a_challenge_to_publish()
    {
        var (tenantId, domain) = await CreateTenantAsync();

        var claim = await DomainAsync(tenantId);

        Assert.Equal(domain, claim["domain"]!.GetValue<string>());
        Assert.Equal("pending", claim["status"]!.GetValue<string>());
        Assert.Equal("_sso-challenge." + domain, claim["challengeRecord"]!.GetValue<string>());
        Assert.StartsWith("sso-verify-", claim["challenge"]!.GetValue<string>());
        Assert.Null(await fixture.App.Get<TenantStore>().FindSignInTenantAsync(domain, default));
    }

    [Fact]
    public async Task Verifies_a_domain_whose_txt_record_holds_the_challenge()
    {
        var (tenantId, domain) = await CreateTenantAsync();
        var challenge = (await DomainAsync(tenantId))["challenge"]!.GetValue<string>();
        fixture.Dns.SetTxt("_sso-challenge." + domain, "unrelated=1", challenge);

        var response = await _admin.PostAsync($"/api/v1/tenants/{tenantId}/domains/{domain}/verify", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var verified = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("verified", verified!["status"]!.GetValue<string>());
        Assert.NotNull(verified["verifiedAt"]);
        Assert.Equal(tenantId, (await fixture.App.Get<TenantStore>().FindSignInTenantAsync(domain, default))?.Id.Value);
    }

    [Fact]
    public async Task Answers_422_saying_what_was_found_when_the_record_is_wrong()
    {
        var (tenantId, domain) = await CreateTenantAsync();
        fixture.Dns.SetTxt("_sso-challenge." + domain, "sso-verify-somethingelse");

        var response = await _admin.PostAsync($"/api/v1/tenants/{tenantId}/domains/{domain}/verify", null);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.EndsWith("/domain-not-verified", problem!["type"]!.GetValue<string>());
        Assert.Contains("sso-verify-somethingelse", problem["detail"]!.GetValue<string>());
        Assert.Equal("pending", (await DomainAsync(tenantId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Answers_422_when_there_is_no_record_at_all()
    {
        var (tenantId, domain) = await CreateTenantAsync();

        var response = await _admin.PostAsync($"/api/v1/tenants/{tenantId}/domains/{domain}/verify", null);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Contains("no DNS record", problem!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unverified_domain_routes_sign_ins_when_the_tenant_does_not_require_verification()
    {
        var (tenantId, domain) = await CreateTenantAsync(requireVerified: false);
        Assert.Equal(tenantId, (await fixture.App.Get<TenantStore>().FindSignInTenantAsync(domain, default))?.Id.Value);
    }

    [Fact]
    public async Task Flags_a_verified_domain_that_lost_its_record_but_keeps_it_verified()
    {
        var (tenantId, domain) = await CreateTenantAsync();
        var challenge = (await DomainAsync(tenantId))["challenge"]!.GetValue<string>();
        fixture.Dns.SetTxt("_sso-challenge." + domain, challenge);
        await _admin.PostAsync($"/api/v1/tenants/{tenantId}/domains/{domain}/verify", null);
        fixture.Dns.Remove("_sso-challenge." + domain);

        var lost = await DomainReverification.RecheckAsync(fixture.App.Get<TenantStore>(), fixture.App.Get<DnsTxtResolver>(),
            fixture.App.Get<Sso.Functions.Outbox.EventFeedStore>(), fixture.App.Clock.GetUtcNow(), default);

        Assert.Contains(lost, c => c.Domain == domain);
        var claim = await DomainAsync(tenantId);
        Assert.Equal("verified", claim["status"]!.GetValue<string>());
        Assert.NotNull(claim["verificationLostAt"]);
        var again = await DomainReverification.RecheckAsync(fixture.App.Get<TenantStore>(), fixture.App.Get<DnsTxtResolver>(),
            fixture.App.Get<Sso.Functions.Outbox.EventFeedStore>(), fixture.App.Clock.GetUtcNow(), default);
        Assert.DoesNotContain(again, c => c.Domain == domain);
        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(5));
        var feed = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenantId}");
        var lostEvent = Assert.Single(feed!["data"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "domain.verification_lost");
        Assert.Equal(domain, lostEvent!["data"]!["domain"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unverified_domain_routes_no_sign_in_until_it_is_verified()
    {
        var (tenantId, domain) = await CreateTenantAsync();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        using var certificate = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=idp", rsa,
                System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var connection = await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections", new
        {
            type = "saml", idpEntityId = "https://idp.example.com/entity", idpSsoUrl = "https://idp.example.com/sso",
            idpCertificates = new[] { certificate.ExportCertificatePem() },
        });
        Assert.Equal(HttpStatusCode.Created, connection.StatusCode);
        var client = await (await _admin.PostAsJsonAsync("/api/v1/clients",
            new { name = "Product", redirectUris = new[] { "http://127.0.0.1:3000/cb" } })).Content.ReadFromJsonAsync<JsonObject>();
        var authorize = "/oauth/authorize?response_type=code&client_id=" + client!["clientId"] +
            "&redirect_uri=" + Uri.EscapeDataString("http://127.0.0.1:3000/cb") + "&state=s1&scope=openid" +
            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256" +
            "&login_hint=" + Uri.EscapeDataString("jane@" + domain);
        var browser = fixture.App.CreateAnonymousClient();

        Assert.Null(await fixture.App.Get<TenantStore>().FindSignInTenantAsync(domain, default));
        var unverified = await browser.GetAsync(authorize);
        Assert.True(unverified.StatusCode == HttpStatusCode.OK, unverified.Headers.Location?.ToString());
        Assert.Contains("not set up", await unverified.Content.ReadAsStringAsync());

        fixture.Dns.SetTxt("_sso-challenge." + domain, (await DomainAsync(tenantId))["challenge"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync($"/api/v1/tenants/{tenantId}/domains/{domain}/verify", null)).StatusCode);

        var verified = await browser.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Found, verified.StatusCode);
        Assert.StartsWith("https://idp.example.com/sso", verified.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Answers_404_for_a_domain_of_another_tenant()
    {
        var (_, otherDomain) = await CreateTenantAsync();
        var (tenantId, _) = await CreateTenantAsync();

        var response = await _admin.PostAsync($"/api/v1/tenants/{tenantId}/domains/{otherDomain}/verify", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Defaults_to_not_requiring_verification_in_development()
    {
        var response = await _admin.PostAsync("/api/v1/tenants",
            new StringContent($$"""{"name":"Dev","domains":["{{UniqueDomain()}}"]}""", Encoding.UTF8, "application/json"));
        var tenant = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.False(tenant!["settings"]!["requireVerifiedDomains"]!.GetValue<bool>());
    }
}
