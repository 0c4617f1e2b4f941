using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Tests.Oidc;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

public sealed class AuditFixture : SsoAppFixture, IAsyncLifetime
{
    public FakeOp Op { get; private set; } = null!;
    public LoopbackDnsServer Dns { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Dns:NameServers"] = Dns.NameServerSetting,
    };

    public new async Task InitializeAsync()
    {
        Op = await FakeOp.StartAsync();
        await base.InitializeAsync();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Op.DisposeAsync();
        Dns.Dispose();
    }
}

public class ManagementAuditTests(AuditFixture fixture) : IClassFixture<AuditFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private static string UniqueDomain() => $"a{Guid.NewGuid():N}"[..18] + ".test";

    private async Task<JsonObject> CreatedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<string> CreateTenantAsync(string domain) =>
        (await CreatedAsync(await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Acme", domains = new[] { domain } })))["id"]!
        .GetValue<string>();

    private Task<List<JsonObject>> ChangesAsync(string? tenantId) =>
        AuditTestRows.ReadAllAsync(fixture.App, tenantId, AuditTypes.ManagementChange);

    private void AssertNoSecretStored(params string[] secrets)
    {
        var stored = AuditTestRows.EverythingStored(fixture.App);
        Assert.DoesNotContain(SsoAppFactory.AdminKey, stored);
        foreach (var secret in secrets) Assert.DoesNotContain(secret, stored);
    }

    [Fact]
    public async Task Records_tenant_changes_with_the_admin_key_id_and_the_fields_set()
    {
        var domain = UniqueDomain();
        var tenantId = await CreateTenantAsync(domain);
        var patch = await _admin.PatchAsync($"/api/v1/tenants/{tenantId}",
            JsonContent.Create(new JsonObject { ["name"] = "Acme Corp", ["settings"] = new JsonObject { ["jitProvisioning"] = true } }));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        var rows = await ChangesAsync(tenantId);

        var created = AuditTestRows.Single(rows, "tenant.create", tenantId);
        Assert.Equal("admin_key", created["actor"]!["kind"]!.GetValue<string>());
        Assert.Equal(AuditTestRows.AdminKeyId, created["actor"]!["id"]!.GetValue<string>());
        Assert.Equal("success", created["result"]!.GetValue<string>());
        Assert.Equal(tenantId, created["tenantId"]!.GetValue<string>());
        Assert.Equal(["name", "domains"], AuditTestRows.ChangedFields(created));
        var patched = AuditTestRows.Single(rows, "tenant.update", tenantId);
        Assert.Equal(["name", "settings.jitProvisioning"], AuditTestRows.ChangedFields(patched));
        Assert.Equal("tenant", patched["target"]!["kind"]!.GetValue<string>());
        // Newest first.
        Assert.True(rows.IndexOf(patched) < rows.IndexOf(created));
        Assert.DoesNotContain("Acme Corp", AuditTestRows.EverythingStored(fixture.App));
        AssertNoSecretStored();
    }

    [Fact]
    public async Task Records_a_refused_change_with_its_problem_code_and_no_fields()
    {
        var domain = UniqueDomain();
        var tenantId = await CreateTenantAsync(domain);
        var bad = await _admin.PatchAsync($"/api/v1/tenants/{tenantId}",
            JsonContent.Create(new JsonObject { ["settings"] = new JsonObject { ["defaultRole"] = "nobody" } }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var row = AuditTestRows.Single(await ChangesAsync(tenantId), "tenant.update", tenantId);

        Assert.Equal("failure", row["result"]!.GetValue<string>());
        Assert.Equal("validation-failed", row["reason"]!.GetValue<string>());
        Assert.Equal(400, row["status"]!.GetValue<int>());
        Assert.Empty(AuditTestRows.ChangedFields(row));
    }

    [Fact]
    public async Task Records_domain_verification_attempts_and_the_deletion_of_a_tenant()
    {
        var domain = UniqueDomain();
        var tenantId = await CreateTenantAsync(domain);
        var failed = await _admin.PostAsync($"/api/v1/tenants/{tenantId}/domains/{domain}/verify", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, failed.StatusCode);
        var challenge = (await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/domains"))!["data"]![0]!["challenge"]!
            .GetValue<string>();
        fixture.Dns.SetTxt("_sso-challenge." + domain, challenge);
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync($"/api/v1/tenants/{tenantId}/domains/{domain}/verify", null)).StatusCode);

        var verifications = (await ChangesAsync(tenantId)).Where(r => r["action"]!.GetValue<string>() == "tenant_domain.verify").ToList();

        Assert.Equal(["success", "failure"], verifications.Select(r => r["result"]!.GetValue<string>()));
        Assert.All(verifications, r => Assert.Equal(domain, r["target"]!["id"]!.GetValue<string>()));
        Assert.Equal("domain-not-verified", verifications[1]["reason"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/tenants/{tenantId}")).StatusCode);
        // The tenant is gone from the API, but the record of its deletion is kept until retention ends.
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/v1/tenants/{tenantId}/audit")).StatusCode);
        await fixture.App.FlushAsync();
        var (kept, _) = await fixture.App.Get<AuditStore>().ReadAsync(tenantId, AuditTypes.ManagementChange, null, 200, default);
        Assert.Contains(kept, r => r["action"]!.GetValue<string>() == "tenant.delete");
    }

    [Fact]
    public async Task Records_connection_changes_without_the_oidc_client_secret()
    {
        var tenantId = await CreateTenantAsync(UniqueDomain());
        var idp = new SamlTestIdp();
        var saml = await CreatedAsync(await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections", new JsonObject
        {
            ["type"] = "saml",
            ["idpEntityId"] = SamlTestIdp.EntityId,
            ["idpSsoUrl"] = SamlTestIdp.SsoUrl,
            ["idpCertificates"] = new JsonArray(idp.CertificatePem),
        }));
        var samlId = saml["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await _admin.PatchAsync($"/api/v1/tenants/{tenantId}/connections/{samlId}",
            JsonContent.Create(new JsonObject { ["name"] = "Okta production", ["allowSha1"] = true }))).StatusCode);
        var oidc = await CreatedAsync(await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections", new JsonObject
        {
            ["type"] = "oidc",
            ["issuer"] = fixture.Op.Issuer,
            ["clientId"] = FakeOp.ClientId,
            ["clientSecret"] = FakeOp.ClientSecret,
        }));
        var oidcId = oidc["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/tenants/{tenantId}/connections/{oidcId}")).StatusCode);

        var rows = await ChangesAsync(tenantId);

        var samlCreated = AuditTestRows.Single(rows, "connection.create", samlId);
        Assert.Equal("connection", samlCreated["target"]!["kind"]!.GetValue<string>());
        Assert.Equal(["type", "idpEntityId", "idpSsoUrl", "idpCertificates"], AuditTestRows.ChangedFields(samlCreated));
        Assert.Equal(["name", "allowSha1"], AuditTestRows.ChangedFields(AuditTestRows.Single(rows, "connection.update", samlId)));
        Assert.Contains("clientSecret", AuditTestRows.ChangedFields(AuditTestRows.Single(rows, "connection.create", oidcId)));
        AuditTestRows.Single(rows, "connection.delete", oidcId);
        AssertNoSecretStored(FakeOp.ClientSecret, idp.CertificatePem.Split('\n')[1]);
    }

    [Fact]
    public async Task Records_directory_and_scim_token_changes_without_any_token()
    {
        var tenantId = await CreateTenantAsync(UniqueDomain());
        var directory = await CreatedAsync(await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/directories",
            new { name = "Corp", provider = "okta" }));
        var directoryId = directory["id"]!.GetValue<string>();
        var token = await CreatedAsync(await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/directories/{directoryId}/tokens",
            new { name = "second" }));
        var tokenId = token["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent,
            (await _admin.DeleteAsync($"/api/v1/tenants/{tenantId}/directories/{directoryId}/tokens/{tokenId}")).StatusCode);

        var rows = await ChangesAsync(tenantId);

        Assert.Equal(["name", "provider"], AuditTestRows.ChangedFields(AuditTestRows.Single(rows, "directory.create", directoryId)));
        var tokenCreated = AuditTestRows.Single(rows, "directory_token.create", tokenId);
        Assert.Equal("token", tokenCreated["target"]!["kind"]!.GetValue<string>());
        AuditTestRows.Single(rows, "directory_token.revoke", tokenId);
        AssertNoSecretStored(directory["token"]!.GetValue<string>(), token["token"]!.GetValue<string>());
    }

    [Fact]
    public async Task Records_client_and_global_webhook_changes_in_the_global_trail()
    {
        var client = await CreatedAsync(await _admin.PostAsJsonAsync("/api/v1/clients",
            new { name = "Product", redirectUris = new[] { "https://app.example.test/cb" } }));
        var clientId = client["clientId"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/clients/{clientId}")).StatusCode);
        var webhook = await CreatedAsync(await _admin.PostAsJsonAsync("/api/v1/webhooks",
            new { url = "https://hooks.example.test/sso", eventTypes = new[] { "dsync.*" } }));
        var webhookId = webhook["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await _admin.PatchAsync($"/api/v1/webhooks/{webhookId}",
            JsonContent.Create(new JsonObject { ["enabled"] = false }))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/webhooks/{webhookId}")).StatusCode);

        var rows = await ChangesAsync(null);

        var created = AuditTestRows.Single(rows, "client.create", clientId);
        Assert.Null(created["tenantId"]);
        Assert.Equal(["name", "redirectUris"], AuditTestRows.ChangedFields(created));
        AuditTestRows.Single(rows, "client.delete", clientId);
        AuditTestRows.Single(rows, "webhook.create", webhookId);
        Assert.Equal(["enabled"], AuditTestRows.ChangedFields(AuditTestRows.Single(rows, "webhook.update", webhookId)));
        AuditTestRows.Single(rows, "webhook.delete", webhookId);
        AssertNoSecretStored(client["clientSecret"]!.GetValue<string>(), webhook["secret"]!.GetValue<string>());
    }

    [Fact]
    public async Task Records_a_tenant_webhook_under_its_tenant()
    {
        var tenantId = await CreateTenantAsync(UniqueDomain());
        var webhook = await CreatedAsync(await _admin.PostAsJsonAsync("/api/v1/webhooks",
            new { url = "https://hooks.example.test/t", tenantId }));

        var row = AuditTestRows.Single(await ChangesAsync(tenantId), "webhook.create", webhook["id"]!.GetValue<string>());

        Assert.Equal(["url", "tenantId"], AuditTestRows.ChangedFields(row));
    }

    [Fact]
    public async Task Does_not_record_reads_or_requests_without_a_valid_admin_key()
    {
        var tenantId = await CreateTenantAsync(UniqueDomain());
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync($"/api/v1/tenants/{tenantId}")).StatusCode);
        var stranger = fixture.App.CreateAnonymousClient();
        stranger.DefaultRequestHeaders.Authorization = new("Bearer", "not-the-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.DeleteAsync($"/api/v1/tenants/{tenantId}")).StatusCode);

        var rows = await ChangesAsync(tenantId);

        Assert.Equal(["tenant.create"], rows.Select(r => r["action"]!.GetValue<string>()));
        Assert.DoesNotContain("not-the-key", AuditTestRows.EverythingStored(fixture.App));
    }
}
