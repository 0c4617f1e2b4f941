using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.OperatorConsole;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Deprovisioning;
using Sso.Functions.Tests.Scim;
using Sso.Testing;
using static Sso.Functions.OperatorConsole.ConsoleActivityPages;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>The reads behind the console's operations pages (<see cref="ConsoleActivity"/>) called as an operation, against Azurite.</summary>
public class ConsoleActivityTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private ConsoleActivity Activity => fixture.App.Get<ConsoleActivity>();

    [Fact]
    public async Task The_overview_narrowed_to_a_tenant_charts_its_sign_ins_and_lists_only_its_problems()
    {
        var tenant = await TestTenant.CreateAsync(fixture.App, "Charted", TestTenant.UniqueDomain());
        var other = await TestTenant.CreateAsync(fixture.App, "Elsewhere", TestTenant.UniqueDomain());
        await fixture.App.Get<AuditLog>().RecordSignInAsync(new TenantId(tenant.TenantId), new ConnectionId("conn_chart"), null, "success", null);
        await fixture.App.Get<AuditLog>().RecordSignInAsync(new TenantId(tenant.TenantId), new ConnectionId("conn_chart"), null, "failure", "expired");
        await fixture.App.FlushAsync();

        var model = await Activity.OverviewAsync(tenant.TenantId, default);

        Assert.Equal(tenant.TenantId, model.TenantId);
        Assert.Equal(ConsoleActivity.ChartDays, model.SignIns.Count);
        var today = model.SignIns[^1];
        Assert.Equal(DateOnly.FromDateTime(fixture.App.Clock.GetUtcNow().UtcDateTime), today.Date);
        Assert.Equal((1, 1), (today.Success, today.Failure));
        Assert.Contains(model.Problems, p => p.Kind == TenantProblems.UnverifiedDomain);
        Assert.All(model.Problems, p => Assert.Equal(tenant.TenantId, p.TenantId));
        Assert.Contains((await Activity.OverviewAsync(null, default)).Problems, p => p.TenantId == other.TenantId);
    }

    [Fact]
    public async Task The_audit_page_reads_a_chosen_tenants_trail_and_shows_the_APIs_refusal_of_an_unknown_tenant()
    {
        var tenant = await TestTenant.CreateAsync(fixture.App, "Trailed");
        await fixture.App.Get<AuditLog>().RecordSignInAsync(new TenantId(tenant.TenantId), new ConnectionId("conn_trail"), null, "failure", "expired");
        await fixture.App.FlushAsync();

        var none = await Activity.ActivityAsync(new ActivityFilter(null, null, null, null, null), null, default);
        Assert.Equal(200, none.Status);
        Assert.Null(none.Model.Page);
        Assert.Contains(none.Model.Tenants, t => t.Id == tenant.TenantId && t.Name == "Trailed");

        var read = await Activity.ActivityAsync(new ActivityFilter(tenant.TenantId, AuditTypes.SignInAttempt, "failure", null, null), null, default);
        Assert.Equal(200, read.Status);
        Assert.Equal(new TenantId(tenant.TenantId), read.Tenant);
        Assert.Contains(read.Model.Page!.Rows, r => r["reason"]?.GetValue<string>() == "expired");

        var unknown = await Activity.ActivityAsync(new ActivityFilter(TenantId.New().Value, null, null, null, null), null, default);
        Assert.Equal(404, unknown.Status);
        Assert.Null(unknown.Tenant);
        Assert.Null(unknown.Model.Page);
        Assert.NotNull(unknown.Model.Error);
    }

    [Fact]
    public async Task The_events_page_shows_the_feeds_refusal_of_a_bad_cursor_with_its_status()
    {
        var tenant = await TestTenant.CreateAsync(fixture.App, "Evented");

        var read = await Activity.EventsAsync(tenant.TenantId, null, null, default);
        Assert.Equal(200, read.Status);
        Assert.Null(read.Model.Error);
        Assert.Equal(tenant.TenantId, read.Model.TenantId);

        var refused = await Activity.EventsAsync(tenant.TenantId, null, "not-a-cursor", default);
        Assert.Equal(400, refused.Status);
        Assert.NotNull(refused.Model.Error);
        Assert.Empty(refused.Model.Events);
    }

    [Fact]
    public async Task The_holds_page_lists_an_undecided_hold_with_its_tenants_name()
    {
        var directory = await ScimTestDirectory.CreateAsync(fixture.App, settings: new { holdMassDeprovision = true });
        var leavers = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            var id = (await directory.CreateUserAsync($"u{i}.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>();
            if (i < 20) leavers.Add(id);
        }
        await fixture.App.DrainQueuesAsync();
        foreach (var id in leavers)
            Assert.True((await directory.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"active","value":false}]""")).IsSuccessStatusCode);
        await fixture.App.DrainQueuesAsync();

        var model = await Activity.HoldsAsync(default);

        var hold = Assert.Single(model.Holds, h => h["directoryId"]?.GetValue<string>() == directory.DirectoryId);
        Assert.Equal(directory.TenantId, hold["tenantId"]!.GetValue<string>());
        Assert.Equal("Acme", model.TenantNames[directory.TenantId]);
    }
}
