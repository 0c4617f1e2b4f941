using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.Connections;

public class ConnectionEndpointsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private async Task<string> TenantAsync()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants",
            new { name = "Acme", domains = new[] { "c" + Guid.NewGuid().ToString("N")[..12] + ".test" } });
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private async Task<(HttpResponseMessage Response, JsonObject Body)> CreateAsync(string tenantId, JsonObject body)
    {
        var response = await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections", body);
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonNode.Parse(text)!.AsObject());
    }

    [Fact]
    public async Task Creates_a_SAML_connection_from_pasted_metadata_with_the_urls_to_give_the_IdP()
    {
        var tenantId = await TenantAsync();
        var idp = new SamlTestIdp();
        var (response, view) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataXml"] = idp.MetadataXml(), ["name"] = "Okta" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = view["id"]!.GetValue<string>();
        Assert.StartsWith("con_", id);
        Assert.Equal($"/api/v1/tenants/{tenantId}/connections/{id}", response.Headers.Location!.ToString());
        Assert.Equal("saml", view["type"]!.GetValue<string>());
        Assert.Equal(tenantId, view["tenantId"]!.GetValue<string>());
        Assert.Equal($"http://localhost/saml/acs/{id}", view["acsUrl"]!.GetValue<string>());
        Assert.Equal($"http://localhost/saml/metadata/{id}", view["spEntityId"]!.GetValue<string>());
        Assert.Equal(view["spEntityId"]!.GetValue<string>(), view["spMetadataUrl"]!.GetValue<string>());
        Assert.Equal(SamlTestIdp.EntityId, view["idpEntityId"]!.GetValue<string>());
        Assert.Equal(SamlTestIdp.SsoUrl, view["idpSsoUrl"]!.GetValue<string>());
        Assert.Single(view["idpCertificates"]!.AsArray());

        var read = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections/{id}");
        Assert.Equal(id, read!["id"]!.GetValue<string>());
        var list = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections");
        Assert.Equal([id], list!["data"]!.AsArray().Select(c => c!["id"]!.GetValue<string>()));

        // The SP key pair is in the secret store, never in the table.
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "connections");
        var row = table.GetEntity<TableEntity>(tenantId, "connection|" + id).Value;
        Assert.DoesNotContain("PRIVATE", string.Join("|", row.Select(p => p.Value?.ToString())));
    }

    [Fact]
    public async Task Keeps_connections_of_one_tenant_out_of_another()
    {
        var tenantId = await TenantAsync();
        var otherTenant = await TenantAsync();
        var idp = new SamlTestIdp();
        var (_, view) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataXml"] = idp.MetadataXml() });
        var id = view["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/v1/tenants/{otherTenant}/connections/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"/api/v1/tenants/{otherTenant}/connections/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync($"/api/v1/tenants/{tenantId}/connections/{id}")).StatusCode);
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "no type", """{"idpMetadataXml":"<x/>"}""" },
        { "an unknown type", """{"type":"ldap"}""" },
        { "two sources", """{"type":"saml","idpMetadataXml":"<x/>","idpEntityId":"https://idp"}""" },
        { "no source", """{"type":"saml"}""" },
        { "metadata that is not XML", """{"type":"saml","idpMetadataXml":"hello"}""" },
        { "metadata with a DTD", """{"type":"saml","idpMetadataXml":"<!DOCTYPE x [<!ENTITY e 'a'>]><x>&e;</x>"}""" },
        { "an entity ID without certificates", """{"type":"saml","idpEntityId":"https://idp","idpSsoUrl":"https://idp/sso"}""" },
        { "a certificate that is not PEM", """{"type":"saml","idpEntityId":"https://idp","idpSsoUrl":"https://idp/sso","idpCertificates":["nope"]}""" },
        { "an http SSO URL", """{"type":"saml","idpEntityId":"https://idp","idpSsoUrl":"http://idp.example/sso","idpCertificates":["nope"]}""" },
        { "an unknown field", """{"type":"saml","idpMetadataXml":"<x/>","debug":true}""" },
        { "an http metadata URL", """{"type":"saml","idpMetadataUrl":"http://idp.example.com/metadata"}""" },
        { "a metadata URL with user info", """{"type":"saml","idpMetadataUrl":"https://u:p@idp.example.com/metadata"}""" },
        { "a JSON array", """[]""" },
        { "OIDC without a client secret", """{"type":"oidc","issuer":"https://idp.example.com","clientId":"a"}""" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Refuses_a_bad_body_with_a_400_problem_and_stores_nothing(string _, string body)
    {
        var tenantId = await TenantAsync();
        var response = await _admin.PostAsync($"/api/v1/tenants/{tenantId}/connections",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var list = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections");
        Assert.Empty(list!["data"]!.AsArray());
    }

    [Fact]
    public async Task Refuses_an_IdP_signing_certificate_with_a_1024_bit_RSA_key()
    {
        var tenantId = await TenantAsync();
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        using var weak = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Old IdP", rsa,
                System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        var (response, problem) = await CreateAsync(tenantId, new JsonObject
        {
            ["type"] = "saml", ["idpEntityId"] = "https://idp.example.com", ["idpSsoUrl"] = "https://idp.example.com/sso",
            ["idpCertificates"] = new JsonArray(weak.ExportCertificatePem()),
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("1024 bits", problem["detail"]!.GetValue<string>());
        Assert.Empty((await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections"))!["data"]!.AsArray());
    }

    [Theory]
    [InlineData("""["des-cbc"]""", HttpStatusCode.BadRequest)]
    [InlineData("""[]""", HttpStatusCode.BadRequest)]
    [InlineData("""["aes256-gcm", 1]""", HttpStatusCode.BadRequest)]
    [InlineData("""["aes256-gcm", "AES256-CBC"]""", HttpStatusCode.OK)]
    public async Task Takes_only_known_encryption_algorithms(string list, HttpStatusCode expected)
    {
        var tenantId = await TenantAsync();
        var idp = new SamlTestIdp();
        var (_, view) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataXml"] = idp.MetadataXml() });

        var response = await _admin.PatchAsync($"/api/v1/tenants/{tenantId}/connections/{view["id"]}",
            JsonContent.Create(new JsonObject { ["encryptionAlgorithms"] = JsonNode.Parse(list) }));

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Answers_404_for_an_unknown_tenant()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants/ten_00000000000000000000000000/connections",
            new { type = "saml", idpMetadataXml = new SamlTestIdp().MetadataXml() });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Fetches_metadata_from_a_URL_and_keeps_the_last_good_copy_when_a_refresh_fails()
    {
        var tenantId = await TenantAsync();
        var idp = new SamlTestIdp();
        using var server = new RecordingHttpReceiver();
        server.Responder = _ => new ScriptedResponse(200, new() { ["Content-Type"] = "application/samlmetadata+xml" }, idp.MetadataXml());
        var (created, view) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = server.BaseUrl + "metadata" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = view["id"]!.GetValue<string>();
        var certificate = view["idpCertificates"]![0]!.GetValue<string>();
        Assert.NotNull(view["metadataFetchedAt"]);

        server.Responder = _ => new ScriptedResponse(500);
        var failed = await _admin.PostAsync($"/api/v1/tenants/{tenantId}/connections/{id}/refresh-metadata", null);
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        var kept = (await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections/{id}"))!;
        Assert.Equal(certificate, kept["idpCertificates"]![0]!.GetValue<string>());
        Assert.Contains("500", kept["metadataRefreshError"]!.GetValue<string>());

        var rolled = new SamlTestIdp();
        server.Responder = _ => new ScriptedResponse(200, null, rolled.MetadataXml());
        var refreshed = await _admin.PostAsync($"/api/v1/tenants/{tenantId}/connections/{id}/refresh-metadata", null);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var now = (await refreshed.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotEqual(certificate, now["idpCertificates"]![0]!.GetValue<string>());
        Assert.Null(now["metadataRefreshError"]);
    }

    [Fact]
    public async Task Gives_up_on_a_metadata_URL_that_does_not_answer_within_5_seconds()
    {
        var tenantId = await TenantAsync();
        using var server = new RecordingHttpReceiver();
        using var release = new ManualResetEventSlim();
        // The IdP never answers while the request is out: only the fetch's own timeout can end it.
        server.Responder = _ =>
        {
            release.Wait(TimeSpan.FromMinutes(2));
            return new ScriptedResponse(200, null, "<x/>");
        };
        try
        {
            var clock = Stopwatch.StartNew();
            var (response, body) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = server.BaseUrl + "slow" });
            Assert.Equal((HttpStatusCode)422, response.StatusCode);
            Assert.Contains("5 s", body["detail"]!.GetValue<string>());
            // Far below the 100 s an unbounded HttpClient would wait, whatever the machine's load.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task Refuses_metadata_larger_than_the_limit()
    {
        var tenantId = await TenantAsync();
        using var server = new RecordingHttpReceiver();
        server.Responder = _ => new ScriptedResponse(200, null, new string(' ', 1024 * 1024 + 10) + "<x/>");
        var (response, _) = await CreateAsync(tenantId, new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = server.BaseUrl + "big" });
        Assert.Equal((HttpStatusCode)422, response.StatusCode);
    }

    [Fact]
    public async Task Patches_settings_and_certificates_and_refuses_unknown_fields()
    {
        var tenantId = await TenantAsync();
        var idp = new SamlTestIdp();
        var (_, view) = await CreateAsync(tenantId, new JsonObject
        {
            ["type"] = "saml", ["idpEntityId"] = SamlTestIdp.EntityId, ["idpSsoUrl"] = SamlTestIdp.SsoUrl,
            ["idpCertificates"] = new JsonArray(idp.CertificatePem),
        });
        var url = $"/api/v1/tenants/{tenantId}/connections/{view["id"]!.GetValue<string>()}";
        var next = new SamlTestIdp();
        var patched = await _admin.PatchAsync(url, JsonContent.Create(new JsonObject
        {
            ["name"] = "Entra",
            ["allowSha1"] = true,
            ["clockSkewSeconds"] = 60,
            ["idpCertificates"] = new JsonArray(idp.CertificatePem, next.CertificatePem),
            ["attributeMapping"] = new JsonObject { ["email"] = "mail" },
        }));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var after = (await patched.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("Entra", after["name"]!.GetValue<string>());
        Assert.True(after["allowSha1"]!.GetValue<bool>());
        Assert.Equal(2, after["idpCertificates"]!.AsArray().Count);
        Assert.Equal("mail", after["attributeMapping"]!["email"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PatchAsync(url, JsonContent.Create(new JsonObject { ["debug"] = 1 }))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PatchAsync(url, JsonContent.Create(new JsonObject { ["clockSkewSeconds"] = -5 }))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PatchAsync(url, JsonContent.Create(new JsonObject
        {
            ["idpInitiated"] = new JsonObject { ["enabled"] = true, ["clientId"] = "cli_00000000000000000000000000", ["redirectUri"] = "https://x" },
        }))).StatusCode);
    }

    [Fact]
    public async Task Deletes_a_connection_so_nothing_signs_in_through_it()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var (requestId, relayState) = await flow.StartAsync("d", null);
        var deleted = await _admin.DeleteAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await flow.Browser.GetAsync($"/saml/metadata/{flow.ConnectionId}")).StatusCode);
        var acs = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState);
        Assert.Equal(HttpStatusCode.BadRequest, acs.StatusCode);
        Assert.Null(acs.Headers.Location);
    }
}
