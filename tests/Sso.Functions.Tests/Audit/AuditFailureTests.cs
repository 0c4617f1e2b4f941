using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Tests.Scim;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

/// <summary>An audit table that cannot be written (a name Table Storage refuses).</summary>
public sealed class BrokenAuditFixture : SsoAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Audit:TableName"] = "no-such_table!",
    };
}

public class AuditFailureTests(BrokenAuditFixture fixture) : IClassFixture<BrokenAuditFixture>
{
    [Fact]
    public async Task A_failed_audit_write_does_not_fail_the_change_or_the_scim_request()
    {
        var admin = fixture.App.CreateAdminClient();

        var tenant = await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Acme", domains = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.Created, tenant.StatusCode);
        var tenantId = (await tenant.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/tenants/{tenantId}")).StatusCode);

        var directory = await ScimTestDirectory.CreateAsync(fixture.App);
        Assert.Equal(HttpStatusCode.OK, (await directory.GetAsync("/Users")).StatusCode);
        // The store really is broken: reading the trail fails.
        await Assert.ThrowsAnyAsync<Azure.RequestFailedException>(
            () => fixture.App.Get<AuditStore>().ReadAsync(tenantId, null, null, 10, default));
    }
}
