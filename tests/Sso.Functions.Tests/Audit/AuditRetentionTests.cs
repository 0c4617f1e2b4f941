using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

public class AuditRetentionTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private async Task<string> CreateTenantAsync(object? settings = null)
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Acme", domains = Array.Empty<string>() });
        var tenantId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        if (settings is not null)
        {
            var patched = await _admin.PatchAsJsonAsync($"/api/v1/tenants/{tenantId}", new { settings });
            Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
        }
        return tenantId;
    }

    private async Task<List<string>> ActionsAsync(string tenantId) =>
        (await AuditTestRows.ReadAllAsync(fixture.App, tenantId)).Select(r => r["action"]!.GetValue<string>()).ToList();

    private Task RenameAsync(string tenantId, string name) =>
        _admin.PatchAsJsonAsync($"/api/v1/tenants/{tenantId}", new { name });

    [Fact]
    public async Task Deletes_rows_past_retention_and_keeps_younger_ones()
    {
        var standard = await CreateTenantAsync();                                    // 90 days (the default)
        var brief = await CreateTenantAsync(new { auditRetentionDays = 2 });
        fixture.App.Clock.Advance(TimeSpan.FromDays(3));
        await RenameAsync(standard, "three days later");
        await RenameAsync(brief, "three days later");

        await fixture.App.FlushAsync();
        await AuditRetentionSweep.SweepAsync(fixture.App.Services, default);

        Assert.Equal(["tenant.update", "tenant.create"], await ActionsAsync(standard));
        Assert.Equal(["tenant.update"], await ActionsAsync(brief));

        fixture.App.Clock.Advance(TimeSpan.FromDays(88));
        await RenameAsync(standard, "ninety-one days later");
        await fixture.App.FlushAsync();
        var deleted = await AuditRetentionSweep.SweepAsync(fixture.App.Services, default);

        Assert.True(deleted >= 2, $"deleted {deleted}");
        Assert.Equal(["tenant.update", "tenant.update"], await ActionsAsync(standard));
        Assert.Empty(await ActionsAsync(brief));
    }

    [Fact]
    public async Task Deletes_in_batches_when_a_partition_holds_more_than_a_transaction()
    {
        var tenantId = await CreateTenantAsync();
        var log = fixture.App.Get<AuditLog>();
        for (var i = 0; i < 130; i++)
            await log.RecordChangeAsync(tenantId, AuditActor.System("test"), "test.write", null, [], "success");
        fixture.App.Clock.Advance(TimeSpan.FromDays(100));
        await RenameAsync(tenantId, "later");

        await fixture.App.FlushAsync();
        await AuditRetentionSweep.SweepAsync(fixture.App.Services, default);

        Assert.Equal(["tenant.update"], await ActionsAsync(tenantId));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3651)]
    public async Task Refuses_a_retention_setting_out_of_range(int days)
    {
        var tenantId = await CreateTenantAsync();

        var response = await _admin.PatchAsJsonAsync($"/api/v1/tenants/{tenantId}", new { settings = new { auditRetentionDays = days } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
