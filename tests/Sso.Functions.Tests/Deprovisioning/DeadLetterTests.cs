using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Webhooks;
using Sso.Testing;

namespace Sso.Functions.Tests.Deprovisioning;

public sealed class DeadLetterTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>, IDisposable
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();
    private readonly RecordingHttpReceiver _receiver = new();

    public void Dispose() => _receiver.Dispose();

    [Fact]
    public async Task A_message_that_failed_every_delivery_is_listed_and_can_be_replayed()
    {
        var webhook = await (await _admin.PostAsJsonAsync("/api/v1/webhooks", new { url = _receiver.BaseUrl + "dl" }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var message = new WebhookDeliveryMessage(webhook!["id"]!.GetValue<string>(), "evt_dead_letter", "dsync.user.deprovisioned",
            null, """{"id":"evt_dead_letter"}""", 1);
        var queues = fixture.App.Get<StorageWorkQueue>();
        await queues.SendAsync(WebhookDeliveryWorker.QueueName, [WebhookDeliveryWorker.Envelope(message)], default);
        // Five deliveries that the receiver never completed, as after five crashed invocations.
        var queue = await queues.GetQueueAsync(WebhookDeliveryWorker.QueueName, default);
        for (var i = 0; i < LocalQueueDispatcher.MaxDeliveryCount; i++)
        {
            var received = Assert.Single((await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value);
            await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt, received.Body, TimeSpan.Zero);
        }

        await fixture.App.Get<LocalQueueDispatcher>().DrainOnceAsync(default);

        Assert.Empty(_receiver.Requests);
        var listed = await _admin.GetFromJsonAsync<JsonObject>("/api/v1/deadletters?queue=webhooks");
        // Other tests of this class dead-letter their own messages on the same queue.
        var deadLetter = Assert.Single(listed!["data"]!.AsArray(),
            d => d!["messageId"]?.GetValue<string>().StartsWith("evt_dead_letter.", StringComparison.Ordinal) == true);
        Assert.Equal("webhooks", deadLetter!["queue"]!.GetValue<string>());
        Assert.Equal("webhook.deliver", deadLetter["kind"]!.GetValue<string>());
        Assert.StartsWith("evt_dead_letter.", deadLetter["messageId"]!.GetValue<string>());

        var replay = await _admin.PostAsync($"/api/v1/deadletters/webhooks/{deadLetter["id"]}/replay", null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        await fixture.App.Get<LocalQueueDispatcher>().DrainOnceAsync(default);

        Assert.Single(_receiver.Requests);
        Assert.DoesNotContain((await _admin.GetFromJsonAsync<JsonObject>("/api/v1/deadletters"))!["data"]!.AsArray(),
            d => d!["id"]!.GetValue<string>() == deadLetter["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsync($"/api/v1/deadletters/webhooks/{deadLetter["id"]}/replay", null)).StatusCode);
    }

    [Fact]
    public async Task An_unreadable_message_goes_straight_to_the_dead_letters()
    {
        var queues = fixture.App.Get<StorageWorkQueue>();
        var queue = await queues.GetQueueAsync(WebhookDeliveryWorker.QueueName, default);
        await queue.SendMessageAsync("this is not a work envelope");

        await fixture.App.Get<LocalQueueDispatcher>().DrainOnceAsync(default);

        var listed = await _admin.GetFromJsonAsync<JsonObject>("/api/v1/deadletters");
        Assert.Contains(listed!["data"]!.AsArray(), d => d!["reason"]!.GetValue<string>() == "unreadable message");
    }

    [Fact]
    public async Task Refuses_an_unknown_queue()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.GetAsync("/api/v1/deadletters?queue=nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsync("/api/v1/deadletters/nope/1/replay", null)).StatusCode);
    }
}
