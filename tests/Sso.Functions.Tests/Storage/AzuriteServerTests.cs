using Azure.Data.Tables;
using Azure.Storage.Queues;
using Sso.Testing;

namespace Sso.Functions.Tests.Storage;

/// <summary>
/// The benches' opt-in: Azurite's table and queue services as processes of their own, as Table
/// Storage and Queue Storage are separate services in Azure. The default stays one process.
/// </summary>
public sealed class AzuriteServerTests
{
    [Fact]
    public async Task Separate_services_are_processes_of_their_own_and_serve_tables_and_queues()
    {
        await using var azurite = await AzuriteServer.StartAsync(separateServices: true);
        Assert.Equal(3, azurite.ProcessIds.Count);
        Assert.Equal(azurite.ProcessId, azurite.ProcessIds[0]);

        var table = new TableClient(azurite.ConnectionString, "separate");
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["Value"] = 1 });
        Assert.Equal(1, (await table.GetEntityAsync<TableEntity>("p", "r")).Value.GetInt32("Value"));

        var queue = new QueueClient(azurite.ConnectionString, "separate");
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync("hello");
        Assert.Equal("hello", (await queue.ReceiveMessageAsync()).Value.MessageText);

        // The queue service stopping leaves the table service answering.
        System.Diagnostics.Process.GetProcessById(azurite.ProcessIds[1]).Kill(entireProcessTree: true);
        Assert.Equal(1, (await table.GetEntityAsync<TableEntity>("p", "r")).Value.GetInt32("Value"));
    }

    [Fact]
    public async Task By_default_one_process_serves_every_service()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        Assert.Equal([azurite.ProcessId!.Value], azurite.ProcessIds);
    }
}
