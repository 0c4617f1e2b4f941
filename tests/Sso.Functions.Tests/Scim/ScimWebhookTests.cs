using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Storage.Queues;
using Sso.Testing;

namespace Sso.Functions.Tests.Scim;

public sealed class ScimWebhookTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>, IDisposable
{
    private readonly RecordingHttpReceiver _receiver = new();

    public void Dispose() => _receiver.Dispose();

    [Fact]
    public async Task Delivers_a_directory_event_to_a_webhook_with_the_feed_id()
    {
        var directory = await ScimTestDirectory.CreateAsync(fixture.App);
        var registered = await directory.Admin.PostAsJsonAsync("/api/v1/webhooks", new { url = _receiver.BaseUrl + "dsync" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var userName = $"hooked.{Guid.NewGuid():N}@example.com";

        await directory.CreateUserAsync(userName);
        await fixture.App.Get<LocalQueueDispatcher>().DrainOnceAsync(default);

        var request = Assert.Single(_receiver.Requests, r => r.Headers["Sso-Event-Type"] == "dsync.user.created");
        var body = JsonNode.Parse(request.BodyText)!;
        Assert.Equal(userName, body["data"]!["userName"]!.GetValue<string>());
        Assert.Equal(directory.TenantId, body["tenantId"]!.GetValue<string>());
        var feed = await directory.EventsAsync(fixture.App);
        Assert.Contains(feed, e => e["id"]!.GetValue<string>() == body["id"]!.GetValue<string>());
    }
}
