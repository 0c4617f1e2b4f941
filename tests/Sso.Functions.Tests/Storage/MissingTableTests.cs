using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Sso.Testing;

namespace Sso.Functions.Tests.Storage;

/// <summary>
/// Issue 14 item 10: tables and queues are created once per process; one that vanished under a
/// running app (here deleted through the SDK) is created again on the next call, which succeeds.
/// </summary>
public sealed class MissingTableTests
{
    [Fact]
    public async Task A_deleted_table_is_recreated_by_the_next_request_which_succeeds()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var admin = app.CreateAdminClient();
        Assert.Equal(HttpStatusCode.Created, (await CreateTenantAsync(admin)).StatusCode);
        var tables = new TableServiceClient(app.Azurite.ConnectionString);
        await tables.DeleteTableAsync(app.TablePrefix + "tenants");
        await tables.DeleteTableAsync(app.TablePrefix + "domains");

        // A point insert (the domain claim), a single insert (the tenant), then a point read.
        var created = await CreateTenantAsync(admin);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/tenants/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_deleted_queue_and_a_table_written_in_batches_are_recreated_and_the_delivery_goes_through()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        using var receiver = new RecordingHttpReceiver();
        var admin = app.CreateAdminClient();
        var webhook = await (await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.BaseUrl + "hook" }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var id = webhook!["id"]!.GetValue<string>();
        var dispatcher = app.Get<LocalQueueDispatcher>();
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/v1/webhooks/{id}/test", null)).StatusCode);
        await dispatcher.DrainOnceAsync(default);
        Assert.Single(receiver.Requests);

        await new TableServiceClient(app.Azurite.ConnectionString).DeleteTableAsync(app.TablePrefix + "webhookdeliveries");
        await new QueueServiceClient(app.Azurite.ConnectionString).DeleteQueueAsync(app.TablePrefix + "-webhooks");

        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/v1/webhooks/{id}/test", null)).StatusCode);
        await dispatcher.DrainOnceAsync(default);

        Assert.Equal(2, receiver.Requests.Count);
        // The attempt and its done marker are one table transaction (a batch) into the recreated table.
        var deliveries = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}/deliveries");
        Assert.Equal("delivered", Assert.Single(deliveries!["data"]!.AsArray())!["outcome"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_transaction_into_a_deleted_table_recreates_it_and_commits()
    {
        var azurite = await AzuriteServer.Shared;
        var prefix = "b" + Guid.NewGuid().ToString("N")[..10];
        var storage = new Sso.Functions.Storage.TableStorage(new Sso.Functions.Storage.StorageOptions(azurite.ConnectionString, null, null, prefix), null);
        var table = await storage.GetTableAsync("batches", default);
        await new TableServiceClient(azurite.ConnectionString).DeleteTableAsync(prefix + "batches");

        await table.SubmitTransactionAsync([
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", "a")),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", "b")),
        ]);

        Assert.Equal(2, await table.QueryAsync<TableEntity>("PartitionKey eq 'p'").CountAsync());
    }

    private static Task<HttpResponseMessage> CreateTenantAsync(HttpClient admin) => admin.PostAsJsonAsync("/api/v1/tenants",
        new { name = "Vanishing", domains = new[] { "v" + Guid.NewGuid().ToString("N")[..12] + ".test" } });
}
