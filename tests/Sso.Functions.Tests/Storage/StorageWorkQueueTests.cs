using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Testing;

namespace Sso.Functions.Tests.Storage;

public class StorageWorkQueueTests
{
    [Fact]
    public async Task Sends_envelopes_that_come_back_intact_from_azurite()
    {
        var azurite = await AzuriteServer.Shared;
        var prefix = "q" + Guid.NewGuid().ToString("N")[..10];
        var queue = new StorageWorkQueue(new StorageOptions(azurite.ConnectionString, null, null, prefix), null);
        var sent = new WorkEnvelope("m-1", "user.revoke", """{"userId":"usr_1","note":"ü"}""");

        await queue.SendAsync("work", [sent], default);

        var client = await queue.GetQueueAsync("work", default);
        var received = (await client.ReceiveMessagesAsync(10)).Value;
        Assert.Equal(sent, WorkEnvelope.Read(Assert.Single(received).Body.ToString()));
        Assert.Equal(prefix + "-work", client.Name);
    }
}
