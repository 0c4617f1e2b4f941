using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Webhooks;
using Sso.Testing;

namespace Sso.Functions.Tests.Webhooks;

/// <summary>
/// Issue 14 item 9: a short outage during a burst drops nothing, a webhook is disabled only by
/// failure sustained over time, and what a disabled webhook kept is sent when it is enabled.
/// </summary>
public sealed class WebhookOutageTests : IDisposable
{
    private readonly RecordingHttpReceiver _receiver = new();

    public void Dispose() => _receiver.Dispose();

    [Fact]
    public async Task A_receiver_down_during_a_burst_of_50_changes_gets_all_50_once_it_is_back()
    {
        // The default disable rule (10 failures over 60 minutes). Retries come due 3.75-6.25 s
        // later: long enough that the first drain, however loaded the machine, ends before them.
        await using var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?>
        {
            ["Webhooks:RetryBaseSeconds"] = "5",
            ["Webhooks:RetryMaxSeconds"] = "5",
            ["Queues:LocalDispatcher:Concurrency"] = "8",
        });
        var admin = app.CreateAdminClient();
        var id = await RegisterAsync(admin, new { url = _receiver.BaseUrl + "burst" });
        var dispatcher = app.Get<LocalQueueDispatcher>();
        var fanOut = app.Get<WebhookFanOut>();
        var eventIds = Enumerable.Range(0, 50).Select(i => $"evt_burst{i:D2}").ToList();

        _receiver.Stop();
        foreach (var eventId in eventIds)
            Assert.Equal(1, await fanOut.EnqueueAsync(eventId, "dsync.user.created", null, $$"""{"id":"{{eventId}}"}""", default));
        await dispatcher.DrainOnceAsync(default);

        // 50 refused first attempts in a moment: far past the count, but not failing for 60 minutes.
        // (Failures recorded side by side may share a count update, so it is at least the rule's 10.)
        var during = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}");
        Assert.True(during!["enabled"]!.GetValue<bool>());
        Assert.True(during["consecutiveFailures"]!.GetValue<int>() >= 10, during.ToJsonString());

        _receiver.Start();
        // The retries wait out their backoff as the queue's scheduled visibility; drain as they come due.
        var waited = Stopwatch.StartNew();
        while (Delivered().Count < 50 && waited.Elapsed < TimeSpan.FromSeconds(120))
            await dispatcher.DrainOnceAsync(default);

        Assert.Equal(eventIds, Delivered().Keys.Order(StringComparer.Ordinal));
        Assert.All(Delivered().Values, count => Assert.Equal(1, count));
        var after = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}");
        Assert.True(after!["enabled"]!.GetValue<bool>());
        Assert.Equal(0, after["consecutiveFailures"]!.GetValue<int>());
        Assert.Empty((await admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}/undelivered"))!["data"]!.AsArray());
    }

    [Fact]
    public async Task A_webhook_disabled_by_sustained_failure_keeps_its_deliveries_and_sends_them_when_enabled()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?>
        {
            ["Webhooks:RetryBaseSeconds"] = "0",
            ["Webhooks:MaxAttempts"] = "3",
            ["Webhooks:DisableAfterFailures"] = "3",
            ["Webhooks:DisableAfterFailingMinutes"] = "10",
        });
        var admin = app.CreateAdminClient();
        var tenantId = (await (await admin.PostAsJsonAsync("/api/v1/tenants",
                new { name = "Kept", domains = new[] { "k" + Guid.NewGuid().ToString("N")[..12] + ".test" } }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var id = await RegisterAsync(admin, new { url = _receiver.BaseUrl + "kept", tenantId });
        var dispatcher = app.Get<LocalQueueDispatcher>();
        var fanOut = app.Get<WebhookFanOut>();
        _receiver.DefaultStatus = 500;

        // Three failed attempts at one instant: the attempts are spent, the webhook is not disabled.
        await fanOut.EnqueueAsync("evt_kept_a", "dsync.user.created", tenantId, """{"id":"evt_kept_a"}""", default);
        await dispatcher.DrainOnceAsync(default);
        Assert.True((await admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}"))!["enabled"]!.GetValue<bool>());
        Assert.Equal(["evt_kept_a:deadLettered"], await UndeliveredAsync(admin, id));

        // Still failing 11 minutes later: the next failure disables it, and nothing is dropped.
        app.Clock.Advance(TimeSpan.FromMinutes(11));
        await fanOut.EnqueueAsync("evt_kept_b", "dsync.user.updated", tenantId, """{"id":"evt_kept_b"}""", default);
        await fanOut.EnqueueAsync("evt_kept_c", "dsync.user.updated", tenantId, """{"id":"evt_kept_c"}""", default);
        await dispatcher.DrainOnceAsync(default);
        var disabled = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}");
        Assert.False(disabled!["enabled"]!.GetValue<bool>());
        Assert.Contains("over 11 minutes", disabled["disabledReason"]!.GetValue<string>());
        Assert.Equal(["evt_kept_a:deadLettered", "evt_kept_b:parked", "evt_kept_c:parked"], await UndeliveredAsync(admin, id));
        app.Clock.Advance(TimeSpan.FromSeconds(5));
        var feed = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenantId}");
        Assert.Single(feed!["data"]!.AsArray(), e => e!["type"]!.GetValue<string>() == WebhookDeliveryWorker.DisabledEvent
            && e["data"]!["webhookId"]!.GetValue<string>() == id);

        // Sending what was kept needs the webhook enabled; enabling sends what was parked.
        _receiver.DefaultStatus = 200;
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/v1/webhooks/{id}/undelivered/redeliver", null)).StatusCode);
        var enabled = await admin.PatchAsync($"/api/v1/webhooks/{id}", new StringContent("""{"enabled":true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        await dispatcher.DrainOnceAsync(default);
        Assert.Equal(["evt_kept_b", "evt_kept_c"], Delivered().Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["evt_kept_a:deadLettered"], await UndeliveredAsync(admin, id));

        // The dead letter is replayed on request.
        var replayed = await admin.PostAsync($"/api/v1/webhooks/{id}/undelivered/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, replayed.StatusCode);
        Assert.Equal(1, (await replayed.Content.ReadFromJsonAsync<JsonObject>())!["queued"]!.GetValue<int>());
        await dispatcher.DrainOnceAsync(default);
        Assert.Equal(["evt_kept_a", "evt_kept_b", "evt_kept_c"], Delivered().Keys.Order(StringComparer.Ordinal));
        Assert.All(Delivered().Values, count => Assert.Equal(1, count));
        Assert.Empty(await UndeliveredAsync(admin, id));
    }

    [Theory]
    [InlineData("many failures in a moment", 50, 0, false)]
    [InlineData("failing long enough but too few failures", 2, 120, false)]
    [InlineData("failing for the whole window with enough failures", 10, 60, true)]
    [InlineData("just short of the window", 100, 59, false)]
    public void Disables_only_on_failure_sustained_over_time(string _, int failures, int minutesFailing, bool disable)
    {
        var options = WebhookOptions.From(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        var since = DateTimeOffset.UnixEpoch;
        Assert.Equal(disable, options.ShouldDisable(failures, since, since.AddMinutes(minutesFailing)));
    }

    /// <summary>Event id → how many times the receiver accepted it (the test's events; the tenant's own, such as webhook.disabled, aside).</summary>
    private Dictionary<string, int> Delivered() => _receiver.Requests
        .Where(r => r.AnsweredStatus == 200 && r.Headers["Sso-Event-Id"] is var id
                    && (id.StartsWith("evt_burst", StringComparison.Ordinal) || id.StartsWith("evt_kept_", StringComparison.Ordinal)))
        .GroupBy(r => r.Headers["Sso-Event-Id"])
        .ToDictionary(g => g.Key, g => g.Count());

    private static async Task<string> RegisterAsync(HttpClient admin, object body)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/webhooks", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private static async Task<List<string>> UndeliveredAsync(HttpClient admin, string id) =>
        (await admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}/undelivered"))!["data"]!.AsArray()
        .Select(d => d!["eventId"]!.GetValue<string>() + ":" + d["state"]!.GetValue<string>())
        .Order(StringComparer.Ordinal)
        .ToList();
}
