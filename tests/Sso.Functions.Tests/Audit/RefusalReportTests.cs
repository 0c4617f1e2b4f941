using Sso.Functions.Audit;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

/// <summary>The refusal counts of <c>…/audit/refusals</c> read as an operation, against Azurite.</summary>
public class RefusalReportTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private RefusalReport Report => fixture.App.Get<RefusalReport>();
    private RefusalCounter Counter => fixture.App.Get<RefusalCounter>();

    [Fact]
    public async Task Reads_a_tenants_unflushed_counts_per_reason_and_connection_within_the_window()
    {
        var tenant = await TestTenant.CreateAsync(fixture.App);
        var tenantId = new TenantId(tenant.TenantId);
        for (var i = 0; i < 3; i++) Counter.Count(tenant.TenantId, "acs:Report", "conn_report");
        Counter.Count(tenant.TenantId, "authorize:Report");

        var counts = await Report.ReadAsync(tenantId, new RefusalQuery(1), default);

        Assert.Equal(4, counts.Total);
        var acs = Assert.Single(counts.Rows, r => r["reason"]!.GetValue<string>() == "acs:Report");
        Assert.Equal(3, acs["count"]!.GetValue<long>());
        Assert.Equal("conn_report", acs["connectionId"]!.GetValue<string>());
        Assert.Null(Assert.Single(counts.Rows, r => r["reason"]!.GetValue<string>() == "authorize:Report")["connectionId"]);

        // Two hours on, a one-hour window no longer holds them; a three-hour window still does.
        fixture.App.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, (await Report.ReadAsync(tenantId, new RefusalQuery(1), default)).Total);
        Assert.Equal(4, (await Report.ReadAsync(tenantId, new RefusalQuery(3), default)).Total);
    }

    [Fact]
    public async Task Reads_the_global_partition_apart_from_the_tenants()
    {
        var tenant = await TestTenant.CreateAsync(fixture.App);
        var reason = "authorize:Global" + Guid.NewGuid().ToString("N")[..8];
        Counter.Count(AuditRecord.GlobalPartition, reason);
        Counter.Count(AuditRecord.GlobalPartition, reason);

        var global = await Report.ReadGlobalAsync(new RefusalQuery(1), default);

        Assert.Equal(2, Assert.Single(global.Rows, r => r["reason"]!.GetValue<string>() == reason)["count"]!.GetValue<long>());
        Assert.Equal(0, (await Report.ReadAsync(new TenantId(tenant.TenantId), new RefusalQuery(1), default)).Total);
    }

    [Theory]
    [InlineData(null, 24)]
    [InlineData("", 24)]
    [InlineData("1", 1)]
    [InlineData("744", 744)]
    public void ParseQuery_takes_hours_from_1_to_31_days_and_defaults_to_a_day(string? hours, int expected) =>
        Assert.Equal(new RefusalQuery(expected), RefusalReport.ParseQuery(hours).Value);

    [Theory]
    [InlineData("0")]
    [InlineData("745")]
    [InlineData("-3")]
    [InlineData("a day")]
    public void ParseQuery_refuses_hours_out_of_range_with_the_APIs_message(string hours)
    {
        var problem = RefusalReport.ParseQuery(hours).Error;
        Assert.Equal(400, problem.Status);
        Assert.Equal("'hours' must be an integer from 1 to 744.", problem.Detail);
    }
}
