using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Webhooks;
using Sso.Protocols.Webhooks;
using Sso.Testing;

namespace Sso.Functions.Tests.Webhooks;

public class WebhookFixture : SsoAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Webhooks:RetryBaseSeconds"] = "0",
        ["Webhooks:MaxAttempts"] = "5",
        ["Webhooks:DisableAfterFailures"] = "8",
        // The count alone decides here; WebhookOutageTests covers the rule over time.
        ["Webhooks:DisableAfterFailingMinutes"] = "0",
    };
}

public sealed class WebhookDeliveryTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>, IDisposable
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();
    private readonly RecordingHttpReceiver _receiver = new();

    public void Dispose() => _receiver.Dispose();

    private Task<int> DrainAsync() => fixture.App.Get<LocalQueueDispatcher>().DrainOnceAsync(default);

    private async Task<JsonObject> RegisterAsync(object body)
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/webhooks", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task Shows_the_signing_secret_once_and_keeps_it_in_the_secret_store()
    {
        var created = await RegisterAsync(new { url = _receiver.BaseUrl + "hook" });
        var id = created["id"]!.GetValue<string>();
        var secret = created["secret"]!.GetValue<string>();
        Assert.StartsWith("whsec_", secret);

        var read = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}");
        Assert.Null(read!["secret"]);
        Assert.Equal(secret, await fixture.App.Get<ISecretStore>().GetAsync(new WebhookId(id).SecretName, default));
        var list = await _admin.GetStringAsync("/api/v1/webhooks");
        Assert.DoesNotContain(secret, list);
    }

    [Fact]
    public async Task Posts_each_event_signed_with_a_timestamp_the_receiver_can_verify()
    {
        var created = await RegisterAsync(new { url = _receiver.BaseUrl + "hook" });
        var (id, secret) = (created["id"]!.GetValue<string>(), created["secret"]!.GetValue<string>());

        var queued = await _admin.PostAsync($"/api/v1/webhooks/{id}/test", null);
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        await DrainAsync();

        var request = Assert.Single(_receiver.Requests, r => r.Headers["Sso-Event-Type"] == "webhook.test");
        Assert.Equal("POST", request.Method);
        Assert.Equal("/hook", request.PathAndQuery);
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
        Assert.Equal("webhook.test", request.Headers["Sso-Event-Type"]);
        Assert.Equal(id, request.Headers["Sso-Webhook-Id"]);
        var verified = WebhookSignature.Verify(secret, request.Headers["Sso-Signature"], request.Body,
            fixture.App.Clock.GetUtcNow(), WebhookSignature.DefaultTolerance);
        Assert.True(verified.IsSuccess);
        Assert.Equal(request.Headers["Sso-Event-Id"], JsonNode.Parse(request.BodyText)!["id"]!.GetValue<string>());
        Assert.False(WebhookSignature.Verify("whsec_other", request.Headers["Sso-Signature"], request.Body,
            fixture.App.Clock.GetUtcNow(), WebhookSignature.DefaultTolerance).IsSuccess);

        var deliveries = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}/deliveries");
        var attempt = Assert.Single(deliveries!["data"]!.AsArray());
        Assert.Equal("delivered", attempt!["outcome"]!.GetValue<string>());
        Assert.Equal(200, attempt["httpStatus"]!.GetValue<int>());
    }

    [Fact]
    public async Task Retries_an_endpoint_that_is_down_and_delivers_once_it_is_back()
    {
        var created = await RegisterAsync(new { url = _receiver.BaseUrl + "flaky" });
        var id = created["id"]!.GetValue<string>();
        var failures = new Queue<int>([503, 500]);
        _receiver.Responder = r => new ScriptedResponse(
            r.Headers.GetValueOrDefault("Sso-Event-Id") == "evt_flaky1" && failures.TryDequeue(out var status) ? status : 200);

        await fixture.App.Get<WebhookFanOut>().EnqueueAsync("evt_flaky1", "dsync.user.deprovisioned", null, """{"id":"evt_flaky1"}""", default);
        await DrainAsync();

        var requests = _receiver.Requests.Where(r => r.Headers["Sso-Event-Id"] == "evt_flaky1").ToList();
        Assert.Equal([503, 500, 200], requests.Select(r => r.AnsweredStatus));
        Assert.Equal(["1", "2", "3"], requests.Select(r => r.Headers["Sso-Delivery-Attempt"]));
        var deliveries = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}/deliveries");
        var outcomes = deliveries!["data"]!.AsArray().Where(a => a!["eventId"]!.GetValue<string>() == "evt_flaky1")
            .OrderBy(a => a!["attempt"]!.GetValue<int>())
            .Select(a => a!["outcome"]!.GetValue<string>());
        Assert.Equal(["failed", "failed", "delivered"], outcomes);
        var webhook = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}");
        Assert.Equal(0, webhook!["consecutiveFailures"]!.GetValue<int>());
    }

    [Fact]
    public async Task Does_not_post_an_event_twice_when_its_work_item_is_redelivered()
    {
        var created = await RegisterAsync(new { url = _receiver.BaseUrl + "once" });
        var id = created["id"]!.GetValue<string>();
        var message = new WebhookDeliveryMessage(id, "evt_once1", "dsync.group.deleted", null, """{"id":"evt_once1"}""", 1);
        var queue = fixture.App.Get<IWorkQueue>();

        await queue.SendAsync(WebhookDeliveryWorker.QueueName, [WebhookDeliveryWorker.Envelope(message)], default);
        await DrainAsync();
        await queue.SendAsync(WebhookDeliveryWorker.QueueName, [WebhookDeliveryWorker.Envelope(message)], default);
        await DrainAsync();

        Assert.Single(_receiver.Requests, r => r.Headers["Sso-Event-Id"] == "evt_once1");
    }

    [Fact]
    public async Task Sends_an_event_only_to_webhooks_of_its_tenant_and_type()
    {
        // Its own app: the other tests register global webhooks that want every event.
        await using var app = new SsoAppFactory(await AzuriteServer.Shared,
            new Dictionary<string, string?> { ["Webhooks:RetryBaseSeconds"] = "0" });
        var admin = app.CreateAdminClient();
        async Task<string> TenantAsync() => (await (await admin.PostAsJsonAsync("/api/v1/tenants",
                new { name = "Hooked", domains = new[] { $"h{Guid.NewGuid():N}"[..16] + ".test" } }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var (tenantA, tenantB) = (await TenantAsync(), await TenantAsync());
        foreach (var body in new object[]
                 {
                     new { url = _receiver.BaseUrl + "a-dsync", tenantId = tenantA, eventTypes = new[] { "dsync.*" } },
                     new { url = _receiver.BaseUrl + "a-login", tenantId = tenantA, eventTypes = new[] { "sso.login" } },
                     new { url = _receiver.BaseUrl + "b-all", tenantId = tenantB },
                 })
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/webhooks", body)).StatusCode);
        var fanOut = app.Get<WebhookFanOut>();

        Assert.Equal(1, await fanOut.EnqueueAsync("evt_t1", "dsync.user.created", tenantA, "{}", default));
        await app.Get<LocalQueueDispatcher>().DrainOnceAsync(default);

        Assert.Equal(["/a-dsync"], _receiver.Requests.Select(r => r.PathAndQuery));
        Assert.Equal(1, await fanOut.EnqueueAsync("evt_t2", "sso.login", tenantB, "{}", default));
    }

    [Fact]
    public async Task Disables_an_endpoint_that_keeps_failing_and_enables_it_again_on_request()
    {
        var created = await RegisterAsync(new { url = _receiver.BaseUrl + "dead", eventTypes = new[] { "dead.*" } });
        var id = created["id"]!.GetValue<string>();
        _receiver.DefaultStatus = 500;
        var fanOut = fixture.App.Get<WebhookFanOut>();

        await fanOut.EnqueueAsync("evt_dead1", "dead.first", null, "{}", default);
        await DrainAsync();
        await fanOut.EnqueueAsync("evt_dead2", "dead.second", null, "{}", default);
        await DrainAsync();

        // 5 attempts for the first event, then 3 more reach the threshold of 8.
        Assert.Equal(8, _receiver.Requests.Count);
        var webhook = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/webhooks/{id}");
        Assert.False(webhook!["enabled"]!.GetValue<bool>());
        Assert.Contains("consecutive", webhook["disabledReason"]!.GetValue<string>());
        Assert.Equal(0, await fanOut.EnqueueAsync("evt_dead3", "dead.third", null, "{}", default));

        var enabled = await _admin.PatchAsync($"/api/v1/webhooks/{id}",
            new StringContent("""{"enabled":true}""", Encoding.UTF8, "application/json"));
        var reenabled = await enabled.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(reenabled!["enabled"]!.GetValue<bool>());
        Assert.Equal(0, reenabled["consecutiveFailures"]!.GetValue<int>());
    }

    [Fact]
    public async Task Records_a_webhook_disabled_event_for_the_webhooks_tenant()
    {
        var tenant = await (await _admin.PostAsJsonAsync("/api/v1/tenants",
            new { name = "Noticed", domains = new[] { $"n{Guid.NewGuid():N}"[..16] + ".test" } })).Content.ReadFromJsonAsync<JsonObject>();
        var tenantId = tenant!["id"]!.GetValue<string>();
        var created = await RegisterAsync(new { url = _receiver.BaseUrl + "gone", tenantId, eventTypes = new[] { "gone.*" } });
        _receiver.DefaultStatus = 503;
        var fanOut = fixture.App.Get<WebhookFanOut>();

        await fanOut.EnqueueAsync("evt_gone1", "gone.first", tenantId, "{}", default);
        await DrainAsync();
        await fanOut.EnqueueAsync("evt_gone2", "gone.second", tenantId, "{}", default);
        await DrainAsync();

        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(5));
        var feed = await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenantId}");
        // Other tests' global webhooks point at receivers that are gone; they get disabled too.
        var disabled = Assert.Single(feed!["data"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "webhook.disabled"
            && e["data"]!["webhookId"]!.GetValue<string>() == created["id"]!.GetValue<string>());
        Assert.Equal(created["id"]!.GetValue<string>(), disabled!["data"]!["webhookId"]!.GetValue<string>());
        Assert.Equal("HTTP 503", disabled["data"]!["lastError"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"url":"http://hooks.example.com/x"}""")]
    [InlineData("""{"url":"not a url"}""")]
    [InlineData("""{"url":"https://hooks.example.com/x","tenantId":"ten_unknown"}""")]
    [InlineData("""{"url":"https://hooks.example.com/x","eventTypes":["dsync.*.created"]}""")]
    [InlineData("""{"url":"https://hooks.example.com/x","secret":"mine"}""")]
    [InlineData("""{}""")]
    public async Task Refuses_a_bad_registration_with_400_problem(string body)
    {
        var before = (await _admin.GetFromJsonAsync<JsonObject>("/api/v1/webhooks"))!["data"]!.AsArray().Count;
        var response = await _admin.PostAsync("/api/v1/webhooks", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, (await _admin.GetFromJsonAsync<JsonObject>("/api/v1/webhooks"))!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Deletes_a_webhook_and_its_secret()
    {
        var created = await RegisterAsync(new { url = _receiver.BaseUrl + "bye" });
        var id = created["id"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Null(await fixture.App.Get<ISecretStore>().GetAsync(new WebhookId(id).SecretName, default));
    }
}
