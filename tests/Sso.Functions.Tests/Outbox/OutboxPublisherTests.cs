using System.Net;
using Azure.Data.Tables;
using Sso.Functions.Audit;
using Sso.Functions.DirectorySync;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Scim;
using Sso.Testing;

namespace Sso.Functions.Tests.Outbox;

/// <summary>Batch windows of minutes: whatever a request left to the background writers is still in memory when it is answered.</summary>
public sealed class SlowWritersFixture : SsoAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Outbox:BatchWindowMilliseconds"] = "600000",
        ["Audit:BatchWindowMilliseconds"] = "60000",
    };
}

public class OutboxPublisherTests(SlowWritersFixture fixture) : IClassFixture<SlowWritersFixture>
{
    private SsoAppFactory App => fixture.App;

    [Fact]
    public async Task A_scim_write_is_answered_before_its_event_is_published_or_its_audit_row_written()
    {
        var directory = await ScimTestDirectory.CreateAsync(App);
        await App.FlushAsync();

        var user = await directory.CreateUserAsync($"early.{Guid.NewGuid():N}@a.test");   // 201
        var userId = user["id"]!.GetValue<string>();

        // Answered with the change and its outbox row committed, nothing else done yet.
        var outbox = await OutboxRowsAsync(directory.DirectoryId);
        Assert.NotEmpty(outbox);
        Assert.DoesNotContain(await ScimRequestsStoredAsync(directory.TenantId), r => r["method"]?.GetValue<string>() == "POST");

        await App.FlushAsync();

        Assert.Empty(await OutboxRowsAsync(directory.DirectoryId));
        Assert.Contains(await directory.EventsAsync(App), e => e["data"]?["id"]?.GetValue<string>() == userId);
        Assert.Contains(await ScimRequestsStoredAsync(directory.TenantId), r => r["method"]?.GetValue<string>() == "POST");
    }

    /// <summary>The audit rows in the store now, without waiting for the writer.</summary>
    private async Task<IReadOnlyList<System.Text.Json.Nodes.JsonObject>> ScimRequestsStoredAsync(string tenantId) =>
        (await App.Get<AuditStore>().ReadAsync(tenantId, AuditTypes.ScimRequest, null, 200, default)).Rows;

    private async Task<List<TableEntity>> OutboxRowsAsync(string directoryId)
    {
        var table = await App.Get<TableStorage>().GetTableAsync(DirectoryPartitionWriter.TableName, default);
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{directoryId}' and RowKey ge 'event|' and RowKey lt 'event}}'"))
            rows.Add(row);
        return rows;
    }
}
