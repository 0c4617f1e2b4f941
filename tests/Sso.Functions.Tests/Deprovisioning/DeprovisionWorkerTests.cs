using System.Text.Json;
using Sso.Functions.Deprovisioning;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.Deprovisioning;

/// <summary>
/// <see cref="DeprovisionWorker"/> resolved from DI with its dependencies in its constructor, and
/// handed one work item as the host hands it one.
/// </summary>
public sealed class DeprovisionWorkerTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private static WorkItem PurgeDirectory(string tenantId, string directoryId) => new("msg_" + Guid.NewGuid().ToString("N"),
        DeprovisionWorker.PurgeDirectory,
        JsonSerializer.Serialize(new TenantPurgeTask(tenantId, directoryId), SsoJsonContext.Default.TenantPurgeTask), 1);

    [Fact]
    public async Task Purges_a_directory_of_the_tenant_the_task_names()
    {
        var tenant = await TestTenant.CreateAsync(App);
        var directoryId = (await tenant.AddDirectoryAsync())["id"]!.GetValue<string>();

        await App.Get<DeprovisionWorker>().HandleAsync(PurgeDirectory(tenant.TenantId, directoryId), default);

        Assert.Null(await App.Get<DirectoryRecordStore>().FindDirectoryAsync(new DirectoryId(directoryId), default));
    }

    [Fact]
    public async Task Leaves_a_directory_of_another_tenant_and_refuses_an_unknown_task_kind()
    {
        var tenant = await TestTenant.CreateAsync(App);
        var other = await TestTenant.CreateAsync(App);
        var directoryId = (await tenant.AddDirectoryAsync())["id"]!.GetValue<string>();
        var worker = App.Get<DeprovisionWorker>();

        await worker.HandleAsync(PurgeDirectory(other.TenantId, directoryId), default);
        var unknown = await Assert.ThrowsAsync<InvalidDataException>(() => worker.HandleAsync(new WorkItem("msg_x", "user.forget", "{}", 1), default));

        Assert.NotNull(await App.Get<DirectoryRecordStore>().FindDirectoryAsync(new DirectoryId(directoryId), default));
        Assert.Single(await App.Get<DirectoryRecordStore>().ListTokensAsync(new DirectoryId(directoryId), default));
        Assert.Equal("Unknown deprovisioning task 'user.forget'.", unknown.Message);
    }
}
