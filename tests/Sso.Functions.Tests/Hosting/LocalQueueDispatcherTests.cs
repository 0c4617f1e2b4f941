using System.Net;
using System.Net.Http.Json;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Scim;
using Sso.Testing;

namespace Sso.Functions.Tests.Hosting;

/// <summary>
/// The background loop of ./run.sh (issue 14 item 6): each queue is drained on its own, so work
/// piling up or hanging in one queue never holds up another.
/// </summary>
public sealed class LocalQueueDispatcherTests : IDisposable
{
    private readonly RecordingHttpReceiver _receiver = new();
    private readonly SemaphoreSlim _release = new(0);

    public void Dispose()
    {
        _release.Release(100);
        _receiver.Dispose();
    }

    [Fact]
    public async Task A_user_is_deprovisioned_while_a_webhook_delivery_still_holds_the_webhook_queue()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?>
        {
            ["Queues:LocalDispatcher:Enabled"] = "true",
            ["Queues:LocalDispatcher:PollMilliseconds"] = "50",
            // The receiver below answers only when the test ends; the delivery waits for it that long.
            ["Webhooks:TimeoutSeconds"] = "600",
        });
        var delivering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _receiver.Responder = _ =>
        {
            delivering.TrySetResult();
            _release.Wait(TimeSpan.FromMinutes(10));
            return new ScriptedResponse(200);
        };
        var directory = await ScimTestDirectory.CreateAsync(app);
        var registered = await app.CreateAdminClient().PostAsJsonAsync("/api/v1/webhooks",
            new { url = _receiver.BaseUrl + "held", tenantId = directory.TenantId });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var userId = (await directory.CreateUserAsync($"held.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>();
        // dsync.user.created goes out, and its delivery hangs: the webhook queue's handler is busy.
        await delivering.Task.WaitAsync(TimeSpan.FromSeconds(120));

        var signedIn = new SignedInUser
        {
            Subject = "sub_" + userId, TenantId = new TenantId(directory.TenantId), ConnectionId = new ConnectionId("con_" + new string('0', 26)),
            Email = "held@example.com", Role = "member", DirectoryUserId = userId, AuthTime = app.Clock.GetUtcNow(),
        };
        var tokens = app.Get<AccessTokenStore>();
        Assert.False(await tokens.IsRevokedAsync(signedIn, app.Clock.GetUtcNow(), default));
        Assert.Equal(HttpStatusCode.NoContent, (await directory.DeleteAsync($"/Users/{userId}")).StatusCode);

        // Queue by queue, the loop would sit in the webhook queue until the delivery ends (10 minutes).
        await Poll.UntilAsync(() => tokens.IsRevokedAsync(signedIn, app.Clock.GetUtcNow().AddSeconds(-1), default), TimeSpan.FromSeconds(90),
            () => "the deleted user's access was not revoked while a webhook delivery was in flight");
        Assert.Empty(_receiver.Requests);   // the first delivery is still waiting for its answer
    }
}
