using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Deploy.Tests.Smoke;

/// <summary>
/// Issue 14, "How to show it": the handler killed (SIGKILL, the real process) between the commit
/// of SCIM changes and their publication, then started again. The first life holds the committed
/// events in its publisher's memory (a 10-minute batch window, no local dispatcher to flush it);
/// the second life's sweep republishes them from the outbox. A reader follows the feed's
/// <c>nextCursor</c> through both lives.
/// </summary>
public sealed class OutboxCrashTests
{
    private const int Writes = 12;

    [Fact]
    public async Task Every_acknowledged_change_reaches_the_feed_once_and_the_webhook_after_a_kill()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        using var receiver = new RecordingHttpReceiver();
        var prefix = "crash" + Guid.NewGuid().ToString("N")[..10];
        var secrets = Path.Combine(Path.GetTempPath(), "sso-crash-secrets-" + Guid.NewGuid().ToString("N"));
        Dictionary<string, string> Life(Dictionary<string, string> settings)
        {
            settings["Storage__TablePrefix"] = prefix;
            settings["Secrets__LocalPath"] = secrets;
            return settings;
        }

        await using var first = await StartAsync(azurite, Life(new()
        {
            ["Outbox__BatchWindowMilliseconds"] = "600000",
            ["Queues__LocalDispatcher__Enabled"] = "false",
        }));
        var tenantId = await CreateAsync(first.Client, "/api/v1/tenants",
            new JsonObject { ["name"] = "Crash Corp", ["domains"] = new JsonArray($"crash-{Guid.NewGuid():N}"[..20] + ".test") });
        var directory = await PostAsync(first.Client, $"/api/v1/tenants/{tenantId}/directories",
            new JsonObject { ["name"] = "Corp IdP", ["provider"] = "okta" });
        await CreateAsync(first.Client, "/api/v1/webhooks", new JsonObject { ["url"] = receiver.BaseUrl + "hooks", ["tenantId"] = tenantId });

        using var reader = new FeedReader(first.Client);
        var readerTask = reader.RunAsync();

        var userIds = new List<string>();
        for (var i = 0; i < Writes; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/scim/v2/{directory["id"]}/Users")
            {
                Content = new StringContent($$"""
                    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"crash{{i}}.{{Guid.NewGuid():N}}@crash.test","active":true}
                    """, Encoding.UTF8, "application/scim+json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", directory["token"]!.GetValue<string>());
            using var created = await first.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);   // acknowledged
            userIds.Add((await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>());
        }

        await first.KillAsync();
        // The events were committed (outbox rows) and never published: nothing reached the feed or the webhook.
        Assert.DoesNotContain(reader.Seen, e => e.Type == "dsync.user.created");
        Assert.Empty(receiver.Requests);

        await using var second = await StartAsync(azurite, Life(new()
        {
            ["Outbox__SweepAfterSeconds"] = "1",
            ["Queues__LocalDispatcher__Enabled"] = "true",
            ["Queues__LocalDispatcher__TimerSeconds"] = "1",
            ["Queues__LocalDispatcher__PollMilliseconds"] = "100",
        }));
        reader.Client = second.Client;

        bool Delivered(string userId) => receiver.Requests.Any(r => Encoding.UTF8.GetString(r.Body).Contains(userId, StringComparison.Ordinal));
        bool SeenByReader(string userId) => reader.Seen.Any(e => e.Type == "dsync.user.created" && e.UserId == userId);
        await Poll.UntilAsync(() => userIds.All(u => SeenByReader(u) && Delivered(u)), TimeSpan.FromSeconds(90),
            () => $"reader saw {userIds.Count(SeenByReader)}, webhook got {userIds.Count(Delivered)} of {Writes}:\n{second.Output}");
        reader.Stop();
        await readerTask;

        var feed = await ReadWholeFeedAsync(second.Client, tenantId);
        foreach (var userId in userIds)
        {
            Assert.Single(feed, e => e.Type == "dsync.user.created" && e.UserId == userId);
            Assert.Single(reader.Seen, e => e.Type == "dsync.user.created" && e.UserId == userId);
        }
        Assert.Equal(reader.Seen.Count, reader.Seen.Select(e => e.Id).Distinct().Count());
    }

    private static Task<HandlerProcess> StartAsync(AzuriteServer azurite, Dictionary<string, string> settings) =>
        HandlerProcess.StartAsync("dotnet", [HandlerBuilds.JitAssembly], Path.GetDirectoryName(HandlerBuilds.JitAssembly)!, azurite, settings);

    private static HttpRequestMessage Admin(HttpMethod method, string path, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", HandlerProcess.AdminKey);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return request;
    }

    private static async Task<JsonObject> PostAsync(HttpClient client, string path, JsonNode body)
    {
        using var response = await client.SendAsync(Admin(HttpMethod.Post, path, body));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task<string> CreateAsync(HttpClient client, string path, JsonNode body) =>
        (await PostAsync(client, path, body))["id"]!.GetValue<string>();

    private static async Task<List<FeedEvent>> ReadWholeFeedAsync(HttpClient client, string tenantId)
    {
        var events = new List<FeedEvent>();
        string? cursor = null;
        while (true)
        {
            using var response = await client.SendAsync(Admin(HttpMethod.Get,
                $"/api/v1/events?tenantId={tenantId}&limit=100" + (cursor is null ? "" : "&after=" + cursor)));
            var page = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            var data = page["data"]!.AsArray();
            if (data.Count == 0) return events;
            events.AddRange(data.Select(e => FeedEvent.From(e!.AsObject())));
            cursor = page["nextCursor"]!.GetValue<string>();
        }
    }

    private sealed record FeedEvent(string Id, string Type, string? UserId)
    {
        public static FeedEvent From(JsonObject json) =>
            new(json["id"]!.GetValue<string>(), json["type"]!.GetValue<string>(), json["data"]?["id"]?.GetValue<string>());
    }

    /// <summary>Follows the whole feed's nextCursor, as a consumer would, through whichever life of the handler is up.</summary>
    private sealed class FeedReader(HttpClient client) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<FeedEvent> _seen = [];

        public HttpClient Client { get; set; } = client;

        public IReadOnlyList<FeedEvent> Seen
        {
            get { lock (_seen) return _seen.ToList(); }
        }

        public async Task RunAsync()
        {
            string? cursor = null;
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await Client.SendAsync(Admin(HttpMethod.Get, "/api/v1/events?limit=5" + (cursor is null ? "" : "&after=" + cursor)));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    var page = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
                    var data = page["data"]!.AsArray();
                    lock (_seen) _seen.AddRange(data.Select(e => FeedEvent.From(e!.AsObject())));
                    cursor = page["nextCursor"]?.GetValue<string>() ?? cursor;
                    if (data.Count > 0) continue;
                }
                catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !_stop.IsCancellationRequested))
                {
                    // The handler is down (killed, or not yet up again): keep the cursor and retry.
                }
                try
                {
                    await Task.Delay(50, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        public void Stop() => _stop.Cancel();

        public void Dispose() => _stop.Dispose();
    }
}
