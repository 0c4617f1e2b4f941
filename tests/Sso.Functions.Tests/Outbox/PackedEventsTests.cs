using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Sso.Functions.Outbox;
using Sso.Functions.Storage.Queues;
using Sso.Testing;

namespace Sso.Functions.Tests.Outbox;

/// <summary>
/// On Storage queues (one request per message) the publisher packs a batch's events into few
/// "events" messages; the worker unpacks them, and an event that fails goes on alone, retried and
/// dead-lettered on its own, while the others of its message are handled once.
/// </summary>
public sealed class PackedEventsTests : IDisposable
{
    private readonly RecordingHttpReceiver _receiver = new();

    public void Dispose() => _receiver.Dispose();

    private static EventRecord Event(string id, string type = "dsync.user.created", string? directoryId = "dir_packed", string userId = "u1") =>
        new(id, type, "ten_packed", directoryId, null, DateTimeOffset.Parse("2026-12-07T08:00:00Z"), new JsonObject { ["id"] = userId });

    [Fact]
    public void A_batch_is_packed_in_order_by_count_and_size_and_a_lone_event_stays_an_event()
    {
        var events = Enumerable.Range(0, 70).Select(i => Event($"evt_{i:D3}")).ToList();
        var messages = EventDispatcher.Pack(events);
        Assert.Equal([32, 32, 6], messages.Select(m => EventDispatcher.ReadMessage(m.Kind, m.Body)!.Count));
        Assert.All(messages, m => Assert.Equal(EventDispatcher.PackedKind, m.Kind));
        Assert.Equal(events.Select(e => e.Id), messages.SelectMany(m => EventDispatcher.ReadMessage(m.Kind, m.Body)!).Select(e => e.Id));
        Assert.Equal(["evt_000+32", "evt_032+32", "evt_064+6"], messages.Select(m => m.MessageId));

        var single = Assert.Single(EventDispatcher.Pack([Event("evt_alone")]));
        Assert.Equal((EventDispatcher.Kind, "evt_alone"), (single.Kind, single.MessageId));

        // Large events: as many as fit in the size bound, one too large for any company alone.
        var large = new string('x', EventDispatcher.MaxPackedChars / 3);
        var big = Enumerable.Range(0, 4).Select(i => Event($"evt_big{i}", userId: large)).Append(Event("evt_huge", userId: large + large + large)).ToList();
        var bigMessages = EventDispatcher.Pack(big);
        Assert.All(bigMessages, m => Assert.True(m.Body.Length <= EventDispatcher.MaxPackedChars || m.Kind == EventDispatcher.Kind, m.MessageId));
        Assert.Equal(big.Select(e => e.Id), bigMessages.SelectMany(m => EventDispatcher.ReadMessage(m.Kind, m.Body)!).Select(e => e.Id));
        Assert.Equal(EventDispatcher.Kind, bigMessages[^1].Kind);
        Assert.True(bigMessages.Count >= 3);
    }

    [Fact]
    public async Task Forty_published_events_take_two_queue_messages_and_reach_the_webhook_once_each()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        await RegisterAsync(app.CreateAdminClient(), _receiver.BaseUrl + "packed");
        var events = Enumerable.Range(0, 40).Select(i => Event($"evt_pk40_{i:D2}")).ToList();

        await app.Get<OutboxPublisher>().PublishAsync([new CommittedEvents("nooutbox", "none", events)], default);

        var queue = new QueueClient(app.Azurite.ConnectionString, ((StorageWorkQueue)app.Get<IWorkQueue>()).FullName(EventDispatcher.QueueName));
        var peeked = (await queue.PeekMessagesAsync(32)).Value;
        Assert.Equal(2, peeked.Length);
        var dispatcher = app.Get<LocalQueueDispatcher>();
        await Poll.UntilAsync(async () => await dispatcher.DrainOnceAsync(default) >= 0 && Delivered("evt_pk40_").Count == 40,
            TimeSpan.FromSeconds(60), () => $"delivered {Delivered("evt_pk40_").Count} of 40");

        Assert.Equal(events.Select(e => e.Id), Delivered("evt_pk40_").Keys.Order(StringComparer.Ordinal));
        Assert.All(Delivered("evt_pk40_").Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task An_event_that_fails_goes_on_alone_to_the_dead_letters_and_the_others_of_its_message_are_handled_once()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?>
        {
            ["Queues:LocalDispatcher:RetryImmediately"] = "true",
        });
        await RegisterAsync(app.CreateAdminClient(), _receiver.BaseUrl + "packed");
        // A directory id that Table Storage refuses as a key: the mass-deprovisioning count fails at every delivery.
        var broken = Event("evt_pkf_2", "dsync.user.deprovisioned", directoryId: "dir#broken");
        var packed = Assert.Single(EventDispatcher.Pack([Event("evt_pkf_1"), broken, Event("evt_pkf_3")]));
        await app.Get<IWorkQueue>().SendAsync(EventDispatcher.QueueName, [packed], default);

        var deadLetters = app.Get<IDeadLetterQueue>();
        var dispatcher = app.Get<LocalQueueDispatcher>();
        await Poll.UntilAsync(async () => await dispatcher.DrainOnceAsync(default) >= 0
                && (await deadLetters.ListAsync(EventDispatcher.QueueName, 10, default)).Any(d => d.MessageId == broken.Id)
                && Delivered("evt_pkf_").Count == 2,
            TimeSpan.FromSeconds(60), () => $"delivered: {string.Join(", ", Delivered("evt_pkf_").Keys)}");
        await dispatcher.DrainOnceAsync(default);

        var dead = (await deadLetters.ListAsync(EventDispatcher.QueueName, 10, default)).Where(d => d.MessageId!.StartsWith("evt_pkf_", StringComparison.Ordinal)).ToList();
        Assert.Equal((broken.Id, EventDispatcher.Kind), (Assert.Single(dead).MessageId, dead[0].Kind));
        Assert.Equal(["evt_pkf_1", "evt_pkf_3"], Delivered("evt_pkf_").Keys.Order(StringComparer.Ordinal));
        Assert.All(Delivered("evt_pkf_").Values, count => Assert.Equal(1, count));
    }

    private Dictionary<string, int> Delivered(string prefix) => _receiver.Requests
        .Where(r => r.AnsweredStatus == 200 && r.Headers.TryGetValue("Sso-Event-Id", out var id) && id.StartsWith(prefix, StringComparison.Ordinal))
        .GroupBy(r => r.Headers["Sso-Event-Id"])
        .ToDictionary(g => g.Key, g => g.Count());

    private static async Task RegisterAsync(HttpClient admin, string url)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/webhooks", new { url });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
