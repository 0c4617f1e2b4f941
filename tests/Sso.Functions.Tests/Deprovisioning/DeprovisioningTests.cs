using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Outbox;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Tests.Scim;
using Sso.Protocols.Webhooks;
using Sso.Testing;

namespace Sso.Functions.Tests.Deprovisioning;

public class DeprovisioningFixture : SsoAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Webhooks:RetryBaseSeconds"] = "0",
    };
}

/// <summary>
/// The deprovisioning fan-out end to end over Azurite: SCIM change → outbox → events queue →
/// per-task work → effects, with the local dispatcher playing the Functions host.
/// </summary>
public sealed class DeprovisioningTests(DeprovisioningFixture fixture) : IClassFixture<DeprovisioningFixture>, IDisposable
{
    private readonly RecordingHttpReceiver _receiver = new();

    private SsoAppFactory App => fixture.App;

    public void Dispose() => _receiver.Dispose();

    private async Task<(ScimTestDirectory Directory, string UserId, string[] GroupIds, string Secret)> ProvisionAsync()
    {
        var directory = await ScimTestDirectory.CreateAsync(App);
        var webhook = await (await directory.Admin.PostAsJsonAsync("/api/v1/webhooks",
                new { url = _receiver.BaseUrl + "events", tenantId = directory.TenantId }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var user = await directory.CreateUserAsync($"leaver.{Guid.NewGuid():N}@example.com");
        var userId = user["id"]!.GetValue<string>();
        var groups = new List<string>();
        foreach (var name in new[] { "Engineering", "Admins", "Everyone" })
            groups.Add((await directory.CreateGroupAsync(name + Guid.NewGuid().ToString("N")[..6], userId))["id"]!.GetValue<string>());
        await App.DrainQueuesAsync();
        return (directory, userId, groups.ToArray(), webhook!["secret"]!.GetValue<string>());
    }

    private async Task<List<JsonObject>> FeedAsync(string tenantId)
    {
        await App.FlushAsync();
        App.Clock.Advance(EventFeedStore.SettleTime + TimeSpan.FromSeconds(1));
        var admin = App.CreateAdminClient();
        var feed = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenantId}&limit=1000");
        return feed!["data"]!.AsArray().Select(e => e!.AsObject()).ToList();
    }

    private List<RecordedRequest> WebhooksOfType(string type) =>
        _receiver.Requests.Where(r => r.Headers.GetValueOrDefault("Sso-Event-Type") == type).ToList();

    [Fact]
    public async Task Deactivating_a_user_revokes_tokens_removes_memberships_and_notifies_in_order()
    {
        var (directory, userId, groupIds, secret) = await ProvisionAsync();
        var accessToken = await App.IssueAccessTokenAsync(directory.TenantId, userId, "leaver@example.com");
        Assert.Equal(HttpStatusCode.OK, await App.UserInfoStatusAsync(accessToken));

        var patched = await directory.PatchAsync($"/Users/{userId}", """[{"op":"Replace","path":"active","value":"False"}]""");
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        await App.DrainQueuesAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await App.UserInfoStatusAsync(accessToken));
        var store = App.Get<DirectoryGroupStore>();
        Assert.Empty(await store.ListGroupIdsOfMemberAsync(new DirectoryId(directory.DirectoryId), userId, default));
        foreach (var groupId in groupIds)
            Assert.Empty(await store.ListMembersAsync(new DirectoryId(directory.DirectoryId), groupId, default));

        var deprovisioned = Assert.Single(WebhooksOfType("dsync.user.deprovisioned"));
        Assert.True(WebhookSignature.Verify(secret, deprovisioned.Headers["Sso-Signature"], deprovisioned.Body,
            App.Clock.GetUtcNow(), WebhookSignature.DefaultTolerance).IsSuccess);
        Assert.Equal("deactivated", JsonNode.Parse(deprovisioned.BodyText)!["data"]!["reason"]!.GetValue<string>());
        Assert.Equal(3, WebhooksOfType("dsync.group.user_removed").Count);

        var feed = await FeedAsync(directory.TenantId);
        var types = feed.Select(e => e["type"]!.GetValue<string>()).ToList();
        var deprovisionedAt = types.IndexOf("dsync.user.deprovisioned");
        Assert.True(deprovisionedAt >= 0);
        Assert.Equal(3, types.Skip(deprovisionedAt + 1).Count(t => t == "dsync.group.user_removed"));
        var ids = feed.Select(e => e["id"]!.GetValue<string>()).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public async Task A_deprovisioning_task_delivered_again_changes_nothing_more()
    {
        var (directory, userId, _, _) = await ProvisionAsync();
        await directory.PatchAsync($"/Users/{userId}", """[{"op":"replace","value":{"active":false}}]""");
        await App.DrainQueuesAsync();
        var removedBefore = (await FeedAsync(directory.TenantId)).Count(e => e["type"]!.GetValue<string>() == "dsync.group.user_removed");

        // The same event dispatched twice more (a redelivery and a replay): same tasks, same ids.
        var deprovisioned = (await FeedAsync(directory.TenantId)).Single(e => e["type"]!.GetValue<string>() == "dsync.user.deprovisioned");
        var record = EventDispatcher.Read(deprovisioned.ToJsonString())!;
        var queue = App.Get<IWorkQueue>();
        await queue.SendAsync(EventDispatcher.QueueName, [EventDispatcher.Envelope(record)], default);
        await queue.SendAsync(DeprovisionWorker.QueueName, EventDispatchWorker.DeprovisionTasks(record), default);
        await App.DrainQueuesAsync();

        var removedAfter = (await FeedAsync(directory.TenantId)).Count(e => e["type"]!.GetValue<string>() == "dsync.group.user_removed");
        Assert.Equal(3, removedBefore);
        Assert.Equal(removedBefore, removedAfter);
        Assert.Single(WebhooksOfType("dsync.user.deprovisioned"));
    }

    [Fact]
    public async Task A_task_that_fails_twice_is_retried_on_its_own_and_done_once()
    {
        // Its own app: the test breaks token storage for a moment, and a missing table must stay missing.
        var failures = new FunctionFailures(DeprovisionWorker.Function.FunctionName);
        await using var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?>
        {
            ["Queues:LocalDispatcher:VisibilitySeconds"] = "1",
            ["Storage:RecreateMissingTables"] = "false",
        }) { TestServices = failures.AddTo };
        var directory = await ScimTestDirectory.CreateAsync(app);
        var userId = (await directory.CreateUserAsync($"flaky.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>();
        foreach (var name in new[] { "One", "Two", "Three" }) await directory.CreateGroupAsync(name, userId);
        var dispatcher = app.Get<LocalQueueDispatcher>();
        await dispatcher.DrainOnceAsync(default);
        // Token storage goes away (as in an outage of that table): the revoke task fails.
        var signedIn = new SignedInUser
        {
            Subject = "sub_" + userId, TenantId = new TenantId(directory.TenantId), ConnectionId = new ConnectionId("con_" + new string('0', 26)),
            Email = "flaky@example.com", Role = "member", DirectoryUserId = userId, AuthTime = app.Clock.GetUtcNow(),
        };
        Assert.False(await app.Get<AccessTokenStore>().IsRevokedAsync(signedIn, app.Clock.GetUtcNow(), default));
        var tokens = new Azure.Data.Tables.TableClient(app.Azurite.ConnectionString, app.TablePrefix + "accesstokens");
        await tokens.DeleteAsync();
        // Storage comes back at the second failure, before the dispatcher receives again. Ending the outage
        // from outside, once a peek saw two deliveries, raced the drains: a peek sees the message only while
        // it is visible, a drain may take it first (or again within one drain on a loaded machine), so it
        // could fail unseen up to its last delivery and go to the poison queue once the table was back.
        failures.OnFailure = count =>
        {
            if (count == 2) tokens.CreateIfNotExists();
        };

        await directory.PatchAsync($"/Users/{userId}", """[{"op":"replace","path":"active","value":false}]""");
        // The failed message comes back after the queue's visibility timeout, so how many drains one
        // failure takes depends on the machine: drain until it has failed twice, not for a number of rounds.
        // The deadlines only turn a hang into a failure: Azurite beside another suite stalls for seconds.
        await Poll.UntilAsync(async () =>
        {
            await dispatcher.DrainOnceAsync(default);
            return failures.Count >= 2;
        }, TimeSpan.FromSeconds(90), () => $"the revoke task failed {failures.Count} times, not twice");
        await Poll.UntilAsync(async () =>
        {
            await dispatcher.DrainOnceAsync(default);
            return await app.Get<AccessTokenStore>().IsRevokedAsync(signedIn, app.Clock.GetUtcNow().AddSeconds(-1), default);
        }, TimeSpan.FromSeconds(90), () => $"the revoke task did not succeed once storage was back (it failed {failures.Count} times; "
                                           + $"a message moves to the poison queue after {LocalQueueDispatcher.MaxDeliveryCount})");
        Assert.Equal(2, failures.Count);
        // The membership task did not wait for the failing one, and ran once.
        await app.FlushAsync();
        app.Clock.Advance(TimeSpan.FromSeconds(5));
        var feed = await app.CreateAdminClient().GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={directory.TenantId}&limit=1000");
        Assert.Equal(3, feed!["data"]!.AsArray().Count(e => e!["type"]!.GetValue<string>() == "dsync.group.user_removed"));
        Assert.Empty(await app.Get<DirectoryGroupStore>().ListGroupIdsOfMemberAsync(new DirectoryId(directory.DirectoryId), userId, default));
        Assert.Empty((await app.CreateAdminClient().GetFromJsonAsync<JsonObject>("/api/v1/deadletters"))!["data"]!.AsArray());
    }

    [Fact]
    public async Task A_user_reactivated_before_the_task_runs_keeps_their_groups()
    {
        var (directory, userId, groupIds, _) = await ProvisionAsync();
        await directory.PatchAsync($"/Users/{userId}", """[{"op":"replace","path":"active","value":false}]""");
        await directory.PatchAsync($"/Users/{userId}", """[{"op":"replace","path":"active","value":true}]""");

        await App.DrainQueuesAsync();

        var memberships = await App.Get<DirectoryGroupStore>().ListGroupIdsOfMemberAsync(new DirectoryId(directory.DirectoryId), userId, default);
        Assert.Equal(groupIds.Order(), memberships.Order());
    }

    [Fact]
    public async Task An_event_left_in_the_outbox_by_a_crash_is_delivered_by_the_sweep()
    {
        var (directory, userId, _, _) = await ProvisionAsync();
        var directoryRecord = (await App.Get<DirectoryRecordStore>().FindDirectoryAsync(new DirectoryId(directory.DirectoryId), default))!;
        var user = (await App.Get<DirectoryUserStore>().FindUserAsync(directoryRecord.Id, userId, default))!;
        // The commit happened, the publish did not: only the outbox row exists.
        var stranded = DirectoryEvents.Deprovisioned(directoryRecord, user, "deactivated", App.Clock.GetUtcNow().AddMinutes(-5));
        var table = await App.Get<TableStorage>().GetTableAsync(DirectoryPartitionWriter.TableName, default);
        await table.AddEntityAsync(stranded.ToOutboxEntity(directory.DirectoryId));
        await App.DrainQueuesAsync();
        Assert.Empty(WebhooksOfType("dsync.user.deprovisioned"));

        var published = await App.Get<OutboxSweep>().SweepAsync(App.Clock.GetUtcNow(), default);
        await App.DrainQueuesAsync();

        Assert.True(published >= 1);
        var delivered = Assert.Single(WebhooksOfType("dsync.user.deprovisioned"));
        Assert.Equal(stranded.Id, delivered.Headers["Sso-Event-Id"]);
        Assert.Contains(await FeedAsync(directory.TenantId), e => e["id"]!.GetValue<string>() == stranded.Id);
    }

    [Fact]
    public async Task A_pending_authorization_code_of_a_revoked_user_yields_no_tokens()
    {
        var (directory, userId, _, _) = await ProvisionAsync();
        var user = new SignedInUser
        {
            Subject = "sub_" + userId, TenantId = new TenantId(directory.TenantId), ConnectionId = new ConnectionId("con_" + new string('0', 26)),
            Email = "leaver@example.com", Role = "member", DirectoryUserId = userId, AuthTime = App.Clock.GetUtcNow(),
        };
        var tokens = App.Get<AccessTokenStore>();
        Assert.False(await tokens.IsRevokedAsync(user, App.Clock.GetUtcNow(), default));

        await directory.DeleteAsync($"/Users/{userId}");
        await App.DrainQueuesAsync();

        Assert.True(await tokens.IsRevokedAsync(user, App.Clock.GetUtcNow().AddSeconds(-1), default));
    }

    [Fact]
    public async Task Deleting_a_tenant_purges_its_directories_and_connections()
    {
        var (directory, _, _, _) = await ProvisionAsync();
        var tenantId = new TenantId(directory.TenantId);
        var metadata = TestSamlMetadata();
        var connection = await directory.Admin.PostAsJsonAsync($"/api/v1/tenants/{directory.TenantId}/connections",
            new { type = "saml", idpEntityId = "https://idp.example.com/entity", idpSsoUrl = "https://idp.example.com/sso", idpCertificates = new[] { metadata } });
        Assert.Equal(HttpStatusCode.Created, connection.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await directory.Admin.DeleteAsync($"/api/v1/tenants/{directory.TenantId}")).StatusCode);
        await App.DrainQueuesAsync();

        Assert.Null(await App.Get<DirectoryRecordStore>().FindDirectoryAsync(new DirectoryId(directory.DirectoryId), default));
        Assert.Empty(await App.Get<ConnectionStore>().ListAsync(tenantId, default));
        Assert.Equal(HttpStatusCode.Unauthorized, (await directory.GetAsync("/Users")).StatusCode);
    }

    private static string TestSamlMetadata()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=idp.example.com", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return certificate.ExportCertificatePem();
    }
}
