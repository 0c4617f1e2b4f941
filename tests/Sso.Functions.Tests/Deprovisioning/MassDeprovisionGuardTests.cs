using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Outbox;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Tests.Scim;
using Sso.Testing;

namespace Sso.Functions.Tests.Deprovisioning;

/// <summary>
/// The mass-deprovisioning guard over Azurite: what "someone deleted the app in Okta" looks like
/// (a large share of a directory deprovisioned within 10 minutes), with and without a hold.
/// </summary>
public sealed class MassDeprovisionGuardTests(DeprovisioningFixture fixture) : IClassFixture<DeprovisioningFixture>, IDisposable
{
    private readonly RecordingHttpReceiver _receiver = new();

    private SsoAppFactory App => fixture.App;

    public void Dispose() => _receiver.Dispose();

    private sealed record Provisioned(ScimTestDirectory Directory, List<string> UserIds, string GroupId);

    private async Task<Provisioned> ProvisionAsync(int users, object settings)
    {
        var directory = await ScimTestDirectory.CreateAsync(App, settings: settings);
        var webhook = await directory.Admin.PostAsJsonAsync("/api/v1/webhooks", new { url = _receiver.BaseUrl + "events", tenantId = directory.TenantId });
        Assert.Equal(HttpStatusCode.Created, webhook.StatusCode);
        var ids = new List<string>();
        for (var i = 0; i < users; i++)
            ids.Add((await directory.CreateUserAsync($"u{i}.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>());
        var groupId = (await directory.CreateGroupAsync("Everyone " + Guid.NewGuid().ToString("N")[..6], [.. ids]))["id"]!.GetValue<string>();
        await App.DrainQueuesAsync();
        return new Provisioned(directory, ids, groupId);
    }

    private static Task DeleteAsync(ScimTestDirectory directory, IEnumerable<string> userIds) =>
        ForEachAsync(userIds, id => directory.DeleteAsync($"/Users/{id}"));

    private static Task DeactivateAsync(ScimTestDirectory directory, IEnumerable<string> userIds) =>
        ForEachAsync(userIds, id => directory.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"active","value":false}]"""));

    private static async Task ForEachAsync(IEnumerable<string> userIds, Func<string, Task<HttpResponseMessage>> send)
    {
        foreach (var id in userIds)
            Assert.True((await send(id)).IsSuccessStatusCode);
    }

    private async Task<List<JsonObject>> EventsOfTypeAsync(ScimTestDirectory directory, string type) =>
        (await directory.EventsAsync(App)).Where(e => e["type"]!.GetValue<string>() == type).ToList();

    private int DeliveriesOf(string type) => _receiver.Requests.Count(r => r.Headers.GetValueOrDefault("Sso-Event-Type") == type);

    private async Task<JsonObject> SingleHoldAsync(ScimTestDirectory directory)
    {
        var holds = await directory.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directory.DirectoryId}/holds");
        return Assert.Single(holds!["data"]!.AsArray())!.AsObject();
    }

    private static object Held => new { holdMassDeprovision = true };

    [Fact]
    public async Task Deleting_25_of_60_users_within_10_minutes_records_one_mass_deprovision_event()
    {
        var (directory, users, _) = await ProvisionAsync(60, new { massDeprovisionThreshold = 0.3 });
        var token = await App.IssueAccessTokenAsync(directory.TenantId, users[0]);

        await DeleteAsync(directory, users.Take(25));
        await App.DrainQueuesAsync();

        var triggered = Assert.Single(await EventsOfTypeAsync(directory, MassDeprovisionGuard.TriggeredEvent));
        var data = triggered["data"]!;
        Assert.Equal(directory.DirectoryId, triggered["directoryId"]!.GetValue<string>());
        Assert.Equal(20, data["deprovisionedUsers"]!.GetValue<int>());   // the 20th deprovisioning crossed both bars
        Assert.Equal(10, data["windowMinutes"]!.GetValue<int>());
        Assert.False(data["held"]!.GetValue<bool>());
        Assert.True(data["deprovisionedUsers"]!.GetValue<int>() > 0.3 * data["directoryUsers"]!.GetValue<int>());
        // Not held: the fan-out ran as always, and the app heard of it.
        Assert.Equal(HttpStatusCode.Unauthorized, await App.UserInfoStatusAsync(token));
        Assert.Equal(25, DeliveriesOf(DirectoryEvents.UserDeprovisioned));
        Assert.Equal(1, DeliveriesOf(MassDeprovisionGuard.TriggeredEvent));
        Assert.Empty((await directory.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directory.DirectoryId}/holds"))!["data"]!.AsArray());
    }

    [Fact]
    public async Task Below_the_threshold_share_nothing_is_recorded()
    {
        var (directory, users, _) = await ProvisionAsync(40, new { massDeprovisionMinUsers = 5 });
        await DeleteAsync(directory, users.Take(12));   // 12 of 40 is 30%, not more
        await App.DrainQueuesAsync();
        Assert.Empty(await EventsOfTypeAsync(directory, MassDeprovisionGuard.TriggeredEvent));

        await DeleteAsync(directory, users.Skip(12).Take(1));   // 13 of 40 is more
        await App.DrainQueuesAsync();
        Assert.Single(await EventsOfTypeAsync(directory, MassDeprovisionGuard.TriggeredEvent));
    }

    [Fact]
    public async Task Below_the_minimum_number_of_users_nothing_is_recorded()
    {
        var (directory, users, _) = await ProvisionAsync(30, new { massDeprovisionThreshold = 0.3 });
        await DeactivateAsync(directory, users.Take(19));   // 63%, but fewer than 20 users
        await App.DrainQueuesAsync();
        Assert.Empty(await EventsOfTypeAsync(directory, MassDeprovisionGuard.TriggeredEvent));
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(11, 0)]
    public async Task Deprovisionings_count_only_within_10_minutes(int minutesBetween, int expectedEvents)
    {
        var (directory, users, _) = await ProvisionAsync(60, new { massDeprovisionThreshold = 0.3 });
        await DeleteAsync(directory, users.Take(15));
        await App.DrainQueuesAsync();
        App.Clock.Advance(TimeSpan.FromMinutes(minutesBetween));
        await DeleteAsync(directory, users.Skip(15).Take(15));
        await App.DrainQueuesAsync();

        Assert.Equal(expectedEvents, (await EventsOfTypeAsync(directory, MassDeprovisionGuard.TriggeredEvent)).Count);
    }

    [Fact]
    public async Task A_held_mass_deprovisioning_runs_nothing_until_released_then_everything()
    {
        var (directory, users, groupId) = await ProvisionAsync(60, Held);
        var leavers = users.Take(25).ToList();
        var tokens = new List<string>();
        foreach (var id in leavers) tokens.Add(await App.IssueAccessTokenAsync(directory.TenantId, id));

        await DeactivateAsync(directory, leavers);
        await App.DrainQueuesAsync();

        // Held: the directory records the change, nothing acts on it.
        var triggered = Assert.Single(await EventsOfTypeAsync(directory, MassDeprovisionGuard.TriggeredEvent));
        Assert.True(triggered["data"]!["held"]!.GetValue<bool>());
        foreach (var token in tokens) Assert.Equal(HttpStatusCode.OK, await App.UserInfoStatusAsync(token));
        Assert.Equal(0, DeliveriesOf(DirectoryEvents.UserDeprovisioned));
        var store = App.Get<DirectoryGroupStore>();
        var directoryId = new DirectoryId(directory.DirectoryId);
        Assert.Equal(60, (await store.ListMembersAsync(directoryId, groupId, default)).Count);
        var leaver = (await App.Get<DirectoryUserStore>().FindUserAsync(directoryId, leavers[0], default))!;
        Assert.Equal("suspended", (await App.Get<SignInDirectory>().FindUserByEmailAsync(new TenantId(directory.TenantId), leaver.UserName, default))!.State);

        var hold = await SingleHoldAsync(directory);
        Assert.Equal("held", hold["status"]!.GetValue<string>());
        Assert.Equal(triggered["data"]!["holdId"]!.GetValue<string>(), hold["id"]!.GetValue<string>());
        Assert.Equal(50, hold["tasks"]!["parked"]!.GetValue<int>());
        Assert.Equal(25, hold["webhookDeliveries"]!["parked"]!.GetValue<int>());
        Assert.Equal(leavers.Order(StringComparer.Ordinal), hold["users"]!.AsArray().Select(u => u!["id"]!.GetValue<string>()));
        Assert.All(hold["users"]!.AsArray(), u => Assert.StartsWith("u", u!["userName"]!.GetValue<string>()));

        // Only that directory is held: another one's deprovisioning runs at once.
        var other = await ScimTestDirectory.CreateAsync(App, settings: Held);
        var otherUser = (await other.CreateUserAsync($"other.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>();
        var otherToken = await App.IssueAccessTokenAsync(other.TenantId, otherUser);
        await DeactivateAsync(other, [otherUser]);
        await App.DrainQueuesAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await App.UserInfoStatusAsync(otherToken));
        Assert.Equal(0, DeliveriesOf(DirectoryEvents.UserDeprovisioned));   // the other tenant has no webhook here

        var released = await directory.Admin.PostAsync($"/api/v1/directories/{directory.DirectoryId}/holds/{hold["id"]}/release", null);
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        var after = (await released.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("released", after["status"]!.GetValue<string>());
        Assert.Equal(50, after["tasks"]!["released"]!.GetValue<int>());
        Assert.Equal(0, after["tasks"]!["parked"]!.GetValue<int>());
        await App.DrainQueuesAsync();

        foreach (var token in tokens) Assert.Equal(HttpStatusCode.Unauthorized, await App.UserInfoStatusAsync(token));
        Assert.Equal(users.Skip(25).Order(StringComparer.Ordinal),
            (await store.ListMembersAsync(directoryId, groupId, default)).Select(m => m.MemberId).Order(StringComparer.Ordinal));
        Assert.Equal(25, DeliveriesOf(DirectoryEvents.UserDeprovisioned));
        Assert.Equal(25, _receiver.Requests.Where(r => r.Headers.GetValueOrDefault("Sso-Event-Type") == DirectoryEvents.UserDeprovisioned)
            .Select(r => r.Headers["Sso-Event-Id"]).Distinct().Count());
        var releasedEvent = Assert.Single(await EventsOfTypeAsync(directory, MassDeprovisionGuard.ReleasedEvent));
        Assert.Equal(25, releasedEvent["data"]!["users"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Conflict,
            (await directory.Admin.PostAsync($"/api/v1/directories/{directory.DirectoryId}/holds/{hold["id"]}/cancel", null)).StatusCode);

        // The hold is over: the next deprovisioning runs at once.
        var nextToken = await App.IssueAccessTokenAsync(directory.TenantId, users[30]);
        await DeactivateAsync(directory, [users[30]]);
        await App.DrainQueuesAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await App.UserInfoStatusAsync(nextToken));
    }

    [Fact]
    public async Task A_cancelled_hold_revokes_nothing_notifies_nobody_and_records_what_it_dropped()
    {
        var (directory, users, groupId) = await ProvisionAsync(40, Held);
        var leavers = users.Take(20).ToList();
        var tokens = new List<string>();
        foreach (var id in leavers) tokens.Add(await App.IssueAccessTokenAsync(directory.TenantId, id));
        await DeleteAsync(directory, leavers.Take(10));
        await DeactivateAsync(directory, leavers.Skip(10));
        await App.DrainQueuesAsync();
        var hold = await SingleHoldAsync(directory);

        var cancelled = await directory.Admin.PostAsync($"/api/v1/directories/{directory.DirectoryId}/holds/{hold["id"]}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        await App.DrainQueuesAsync();

        var after = await SingleHoldAsync(directory);
        Assert.Equal("cancelled", after["status"]!.GetValue<string>());
        Assert.Equal(40, after["tasks"]!["cancelled"]!.GetValue<int>());
        Assert.Equal(20, after["webhookDeliveries"]!["cancelled"]!.GetValue<int>());
        Assert.Equal(0, after["tasks"]!["parked"]!.GetValue<int>() + after["tasks"]!["released"]!.GetValue<int>());
        foreach (var token in tokens) Assert.Equal(HttpStatusCode.OK, await App.UserInfoStatusAsync(token));
        Assert.Equal(0, DeliveriesOf(DirectoryEvents.UserDeprovisioned));
        // The deactivated keep their groups for the IdP's next sync; the directory still says what the IdP did.
        var members = (await App.Get<DirectoryGroupStore>().ListMembersAsync(new DirectoryId(directory.DirectoryId), groupId, default)).Select(m => m.MemberId).ToList();
        Assert.All(leavers.Skip(10), id => Assert.Contains(id, members));
        Assert.Equal("deprovisioned", (await directory.DirectoryUserAsync(leavers[0]))["state"]!.GetValue<string>());
        Assert.Equal("suspended", (await directory.DirectoryUserAsync(leavers[15]))["state"]!.GetValue<string>());
        var cancelledEvent = Assert.Single(await EventsOfTypeAsync(directory, MassDeprovisionGuard.CancelledEvent));
        Assert.Equal(20, cancelledEvent["data"]!["users"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Conflict,
            (await directory.Admin.PostAsync($"/api/v1/directories/{directory.DirectoryId}/holds/{hold["id"]}/release", null)).StatusCode);
        // Cancelling twice answers the same hold.
        Assert.Equal(HttpStatusCode.OK,
            (await directory.Admin.PostAsync($"/api/v1/directories/{directory.DirectoryId}/holds/{hold["id"]}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Stores_its_rows_with_the_status_names_the_api_shows()
    {
        var (directory, users, _) = await ProvisionAsync(6, new { holdMassDeprovision = true, massDeprovisionMinUsers = 3 });
        await DeactivateAsync(directory, users.Take(3));
        await App.DrainQueuesAsync();
        var hold = await SingleHoldAsync(directory);
        var holdId = hold["id"]!.GetValue<string>();

        var table = await App.Get<MassDeprovisionHoldStore>().TableAsync(default);
        var guard = (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>(directory.DirectoryId, GuardRow.RowKey)).Value;
        Assert.Equal("held", guard.GetString("Status"));
        Assert.Equal(new GuardRow(directory.DirectoryId, holdId, HoldStatus.Held, GuardRow.FromEntity(guard).Floor,
            GuardRow.FromEntity(guard).TriggeredAt, guard.ETag), GuardRow.FromEntity(guard));
        var holdRow = (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>(directory.DirectoryId, HoldRow.RowKeyOf(holdId))).Value;
        Assert.Equal("held", holdRow.GetString("Status"));
        Assert.Equal(HoldStatus.Held, HoldRow.FromEntity(holdRow).Status);
        Assert.Equal(3, HoldRow.FromEntity(holdRow).DeprovisionedUsers);

        var parked = await MassDeprovisionHoldStore.ParkedItemsAsync(table, directory.DirectoryId, holdId, default);
        Assert.NotEmpty(parked);
        Assert.All(parked, item => Assert.Equal(ParkedStatus.Parked, item.Status));
        Assert.Equal(parked.Count, hold["tasks"]!["parked"]!.GetValue<int>() + hold["webhookDeliveries"]!["parked"]!.GetValue<int>());

        Assert.Equal(HttpStatusCode.OK,
            (await directory.Admin.PostAsync($"/api/v1/directories/{directory.DirectoryId}/holds/{holdId}/cancel", null)).StatusCode);
        var cancelled = await MassDeprovisionHoldStore.ParkedItemsAsync(table, directory.DirectoryId, holdId, default);
        Assert.All(cancelled, item => Assert.Equal(ParkedStatus.Cancelled, item.Status));
        Assert.Equal("cancelled", (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>(directory.DirectoryId, HoldRow.RowKeyOf(holdId)))
            .Value.GetString("Status"));
    }

    [Fact]
    public async Task Work_parked_while_a_release_runs_is_either_released_or_not_parked_at_all()
    {
        var (directory, users, _) = await ProvisionAsync(6, new { holdMassDeprovision = true, massDeprovisionMinUsers = 3 });
        await DeactivateAsync(directory, users.Take(3));
        await App.DrainQueuesAsync();
        var hold = await SingleHoldAsync(directory);
        var guard = App.Get<MassDeprovisionGuard>();
        var record = (await App.Get<DirectoryRecordStore>().FindDirectoryAsync(new DirectoryId(directory.DirectoryId), default))!;

        // Parkers race the release; each item must end up released or run (not parked).
        // All start together at the gate and stagger by yielding, not by sleeping.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var parks = Enumerable.Range(0, 30).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            for (var turn = 0; turn < i % 10; turn++) await Task.Yield();
            var item = new Sso.Functions.Hosting.WorkItem($"evt_race{i:D3}.whk", Sso.Functions.Webhooks.WebhookDeliveryWorker.Kind, "{}", 1);
            return await guard.TryParkAsync(directory.DirectoryId, Sso.Functions.Webhooks.WebhookDeliveryWorker.QueueName, item, null, null, default);
        })).ToList();
        var release = Task.Run(async () =>
        {
            await gate.Task;
            for (var turn = 0; turn < 5; turn++) await Task.Yield();
            return await guard.DecideAsync(record, hold["id"]!.GetValue<string>(), MassDeprovisionGuard.Decision.Release, default);
        });
        gate.SetResult();
        var parked = (await Task.WhenAll(parks)).Count(p => p);
        Assert.Equal(MassDeprovisionGuard.DecisionOutcome.Done, (await release).Outcome);

        var after = await SingleHoldAsync(directory);
        Assert.Equal("released", after["status"]!.GetValue<string>());
        Assert.Equal(parked + 3, after["webhookDeliveries"]!["released"]!.GetValue<int>());   // and the 3 deprovisioned deliveries
        Assert.Equal(0, after["webhookDeliveries"]!["parked"]!.GetValue<int>() + after["tasks"]!["parked"]!.GetValue<int>());
        Assert.Equal(6, after["tasks"]!["released"]!.GetValue<int>());
        Assert.False(await guard.TryParkAsync(directory.DirectoryId, Sso.Functions.Webhooks.WebhookDeliveryWorker.QueueName,
            new Sso.Functions.Hosting.WorkItem("evt_late.whk", Sso.Functions.Webhooks.WebhookDeliveryWorker.Kind, "{}", 1), null, null, default));
    }

    [Fact]
    public async Task Rejects_an_unknown_hold_and_invalid_guard_settings()
    {
        var directory = await ScimTestDirectory.CreateAsync(App);
        var unknown = await directory.Admin.PostAsync($"/api/v1/directories/{directory.DirectoryId}/holds/hld_nothing/release", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound,
            (await directory.Admin.GetAsync($"/api/v1/directories/dir_{new string('0', 26)}/holds")).StatusCode);

        foreach (var settings in new[] { """{"massDeprovisionThreshold":1.5}""", """{"massDeprovisionThreshold":0}""", """{"massDeprovisionMinUsers":0}""" })
        {
            var patch = await directory.Admin.PatchAsync($"/api/v1/tenants/{directory.TenantId}",
                new StringContent($$"""{"settings":{{settings}}}""", System.Text.Encoding.UTF8, "application/merge-patch+json"));
            Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        }
        var accepted = await directory.Admin.PatchAsync($"/api/v1/tenants/{directory.TenantId}",
            new StringContent("""{"settings":{"massDeprovisionThreshold":0.5,"massDeprovisionMinUsers":50,"holdMassDeprovision":true}}""",
                System.Text.Encoding.UTF8, "application/merge-patch+json"));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var settingsView = (await accepted.Content.ReadFromJsonAsync<JsonObject>())!["settings"]!;
        Assert.Equal(0.5, settingsView["massDeprovisionThreshold"]!.GetValue<double>());
        Assert.True(settingsView["holdMassDeprovision"]!.GetValue<bool>());
    }
}
