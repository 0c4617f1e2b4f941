using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.OperatorConsole;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>The tenant page's read (<see cref="TenantOverview"/>) called as an operation, with no HTTP request of ours around it, against Azurite.</summary>
public class TenantOverviewTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private TenantOverview Overview => fixture.App.Get<TenantOverview>();

    [Fact]
    public async Task Reads_a_tenants_domains_connections_and_directories_with_their_latest_activity()
    {
        var domain = TestTenant.UniqueDomain();
        var tenant = await TestTenant.CreateAsync(fixture.App, "Overview & Co", domain);
        using var key = RSA.Create(2048);
        using var certificate = new CertificateRequest("CN=Overview IdP", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(400));
        var connectionId = (await tenant.AddConnectionAsync(new JsonObject
        {
            ["type"] = "saml", ["name"] = "Okta", ["idpEntityId"] = "https://idp.example.test/" + Guid.NewGuid().ToString("N"),
            ["idpSsoUrl"] = "https://idp.example.test/sso", ["idpCertificates"] = new JsonArray(certificate.ExportCertificatePem()),
        }))["id"]!.GetValue<string>();
        var directory = await tenant.AddDirectoryAsync();
        var directoryId = directory["id"]!.GetValue<string>();
        using var scim = fixture.App.CreateDefaultClient();
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", directory["token"]!.GetValue<string>());
        var created = await scim.PostAsync($"/scim/v2/{directoryId}/Users", new StringContent(
            """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.test","active":true}""",
            System.Text.Encoding.UTF8, "application/scim+json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await fixture.App.Get<AuditLog>().RecordSignInAsync(new TenantId(tenant.TenantId), new ConnectionId(connectionId), null,
            "failure", "audience_mismatch");
        await fixture.App.FlushAsync();

        var found = await Overview.FindTenantAsync(new TenantId(tenant.TenantId), default);
        Assert.NotNull(found);
        var model = await Overview.ReadAsync(found, default);

        Assert.Equal("Overview & Co", model.Tenant.Name);
        Assert.Equal(domain, Assert.Single(model.Domains).Domain);
        Assert.Empty(model.SetupLinks);
        var connection = Assert.Single(model.Connections);
        Assert.Equal(connectionId, connection.Connection.Id.Value);
        Assert.Single(connection.Certificates);
        Assert.Null(connection.LastSignIn);
        Assert.Equal("audience_mismatch", connection.LastRefusal!["reason"]!.GetValue<string>());
        var summary = Assert.Single(model.Directories);
        Assert.Equal(directoryId, summary.Directory.Id.Value);
        Assert.Single(summary.Tokens);
        Assert.Equal(1, summary.ActiveUsers);
        Assert.Equal("0", summary.Groups);
        Assert.Equal("POST Users", summary.LastScimRequest!["action"]!.GetValue<string>());
        Assert.Null(summary.Sync);
        Assert.Equal(fixture.App.Clock.GetUtcNow(), model.Now);
    }

    [Fact]
    public async Task Finds_a_directory_only_for_the_tenant_that_owns_it()
    {
        var owner = await TestTenant.CreateAsync(fixture.App, "Owner");
        var other = await TestTenant.CreateAsync(fixture.App, "Other");
        var directoryId = (await owner.AddDirectoryAsync())["id"]!.GetValue<string>();
        var ownerTenant = (await Overview.FindTenantAsync(new TenantId(owner.TenantId), default))!;
        var otherTenant = (await Overview.FindTenantAsync(new TenantId(other.TenantId), default))!;

        Assert.Equal(directoryId, (await Overview.FindOwnedDirectoryAsync(ownerTenant, directoryId, default))?.Id.Value);
        Assert.Null(await Overview.FindOwnedDirectoryAsync(otherTenant, directoryId, default));
        Assert.Null(await Overview.FindOwnedDirectoryAsync(ownerTenant, "not a directory id", default));
        Assert.Null(await Overview.FindTenantAsync(TenantId.New(), default));
    }

    [Fact]
    public async Task After_a_refused_change_reads_the_stored_tenant_not_the_one_in_hand()
    {
        var tenant = await TestTenant.CreateAsync(fixture.App, "Before");
        var inHand = (await Overview.FindTenantAsync(new TenantId(tenant.TenantId), default))!;
        using var admin = fixture.App.CreateAdminClient();
        var renamed = await admin.PatchAsync($"/api/v1/tenants/{tenant.TenantId}",
            new StringContent("""{"name":"After"}""", System.Text.Encoding.UTF8, "application/merge-patch+json"));
        Assert.True(renamed.IsSuccessStatusCode, await renamed.Content.ReadAsStringAsync());

        Assert.Equal("Before", (await Overview.ReadAsync(inHand, default)).Tenant.Name);
        Assert.Equal("After", (await Overview.ReadCurrentAsync(inHand, default)).Tenant.Name);
    }
}
