using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
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
/// SCIM DELETE /Groups answers at once and the membership removals run as chunked
/// <c>group.remove-memberships</c> tasks on the "deprovision" queue.
/// </summary>
public sealed class GroupDeletionTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private static object AdminsMapping(string group) => new
    {
        roles = new[] { "member", "admin" },
        defaultRole = "member",
        groupRoleMappings = new[] { new { group, role = "admin" } },
    };

    private static async Task<List<string>> CreateUsersAsync(ScimTestDirectory directory, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
            ids.Add((await directory.CreateUserAsync($"m{i}.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>());
        return ids;
    }

    private static async Task<List<JsonObject>> ManagementGroupsAsync(ScimTestDirectory directory) =>
        (await directory.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directory.DirectoryId}/groups?limit=200"))!["data"]!
        .AsArray().Select(g => g!.AsObject()).ToList();

    [Fact]
    public async Task A_group_of_250_members_deleted_answers_at_once_and_its_removals_fan_out()
    {
        var name = "Admins " + Guid.NewGuid().ToString("N")[..6];
        var directory = await ScimTestDirectory.CreateAsync(App, settings: AdminsMapping(name));
        var members = await CreateUsersAsync(directory, 250);
        var groupId = (await directory.CreateGroupAsync(name, [.. members]))["id"]!.GetValue<string>();
        await App.DrainQueuesAsync();
        var store = App.Get<DirectoryGroupStore>();
        var directoryId = new DirectoryId(directory.DirectoryId);
        Assert.Equal(250, (await store.ListMembersAsync(directoryId, groupId, default)).Count);

        Assert.Equal(HttpStatusCode.NoContent, (await directory.DeleteAsync($"/Groups/{groupId}")).StatusCode);

        // Before any task ran: gone for SCIM and the management view, and no longer giving a role.
        await ScimTestDirectory.AssertScimErrorAsync(await directory.GetAsync($"/Groups/{groupId}"), HttpStatusCode.NotFound, null);
        Assert.DoesNotContain(await ManagementGroupsAsync(directory), g => g["id"]!.GetValue<string>() == groupId);
        Assert.Equal(250, (await store.ListMembersAsync(directoryId, groupId, default)).Count);
        var signIn = await App.Get<SignInDirectory>().FindUserByEmailAsync(new TenantId(directory.TenantId),
            (await App.Get<DirectoryUserStore>().FindUserAsync(directoryId, members[0], default))!.UserName, default);
        Assert.Equal("member", signIn!.Role);
        Assert.Empty(signIn.Groups);

        var deprovisionQueue = await App.Get<StorageWorkQueue>().GetQueueAsync(DeprovisionWorker.QueueName, default);
        await App.DrainQueuesAsync();

        Assert.Empty(await store.ListMembersAsync(directoryId, groupId, default));
        foreach (var member in members) Assert.Empty(await store.ListGroupIdsOfMemberAsync(directoryId, member, default));
        Assert.Null(await store.FindDeletedGroupAsync(directoryId, groupId, default));
        Assert.Equal(0, (await deprovisionQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount);

        var events = await directory.EventsAsync(App);
        var deletedAt = events.FindIndex(e => e["type"]!.GetValue<string>() == DirectoryEvents.GroupDeleted);
        Assert.True(deletedAt >= 0);
        var removed = events.Skip(deletedAt + 1).Where(e => e["type"]!.GetValue<string>() == DirectoryEvents.GroupUserRemoved).ToList();
        Assert.Equal(members.Order(StringComparer.Ordinal), removed.Select(e => e["data"]!["user"]!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(removed, e => Assert.Equal(groupId, e["data"]!["group"]!["id"]!.GetValue<string>()));
        var roleChanges = events.Skip(deletedAt + 1).Where(e => e["type"]!.GetValue<string>() == RoleChanges.RoleChanged).ToList();
        Assert.Equal(250, roleChanges.Count);
        Assert.All(roleChanges, e => Assert.Equal("member", e["data"]!["role"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_task_that_fails_is_retried_and_removes_each_member_once()
    {
        var failures = new FunctionFailures(DeprovisionWorker.Function.FunctionName);
        await using var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?>
        {
            ["Queues:LocalDispatcher:VisibilitySeconds"] = "1",
        }) { TestServices = failures.AddTo };
        var directory = await ScimTestDirectory.CreateAsync(app);
        var members = await CreateUsersAsync(directory, 120);
        var groupId = (await directory.CreateGroupAsync("Flaky " + Guid.NewGuid().ToString("N")[..6], [.. members]))["id"]!.GetValue<string>();
        await app.DrainQueuesAsync();

        // The tenant row becomes unreadable for a while: every chunk task fails on its settings.
        var tenants = new TableClient(app.Azurite.ConnectionString, app.TablePrefix + "tenants");
        var tenant = (await tenants.GetEntityAsync<TableEntity>(directory.TenantId, "tenant")).Value;
        var settings = tenant.GetString("Settings");
        tenant["Settings"] = "{";
        await tenants.UpdateEntityAsync(tenant, Azure.ETag.All, TableUpdateMode.Replace);

        Assert.Equal(HttpStatusCode.NoContent, (await directory.DeleteAsync($"/Groups/{groupId}")).StatusCode);
        var dispatcher = app.Get<LocalQueueDispatcher>();
        // Until each chunk task has failed, not for a number of drains: on a loaded machine a failed task comes back
        // within a drain, and every extra drain while the row is broken brings a task closer to the poison queue.
        var chunks = (120 + GroupMembershipRemoval.ChunkSize - 1) / GroupMembershipRemoval.ChunkSize;
        await Poll.UntilAsync(async () =>
        {
            await dispatcher.DrainOnceAsync(default);
            return failures.Count >= chunks;
        }, TimeSpan.FromSeconds(90), () => $"{failures.Count} of the {chunks} chunk tasks failed");
        var store = app.Get<DirectoryGroupStore>();
        var directoryId = new DirectoryId(directory.DirectoryId);
        Assert.Equal(120, (await store.ListMembersAsync(directoryId, groupId, default)).Count);

        tenant["Settings"] = settings;
        await tenants.UpdateEntityAsync(tenant, Azure.ETag.All, TableUpdateMode.Replace);
        // The failed chunk tasks come back after the queue's visibility timeout: drain until they have run.
        await Poll.UntilAsync(async () =>
        {
            await app.DrainQueuesAsync();
            return (await store.ListMembersAsync(directoryId, groupId, default)).Count == 0;
        }, TimeSpan.FromSeconds(90), () => "the deleted group's members were not all removed");
        await app.DrainQueuesAsync();

        Assert.Empty(await store.ListMembersAsync(directoryId, groupId, default));
        Assert.Null(await store.FindDeletedGroupAsync(directoryId, groupId, default));
        var removed = (await directory.EventsAsync(app)).Where(e => e["type"]!.GetValue<string>() == DirectoryEvents.GroupUserRemoved)
            .Select(e => e["data"]!["user"]!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(members.Order(StringComparer.Ordinal), removed.Order(StringComparer.Ordinal));
        Assert.Empty((await app.CreateAdminClient().GetFromJsonAsync<JsonObject>("/api/v1/deadletters"))!["data"]!.AsArray());
    }

    [Fact]
    public async Task A_deleted_event_dispatched_again_removes_nothing_twice()
    {
        var directory = await ScimTestDirectory.CreateAsync(App);
        var members = await CreateUsersAsync(directory, 5);
        var groupId = (await directory.CreateGroupAsync("Again " + Guid.NewGuid().ToString("N")[..6], [.. members]))["id"]!.GetValue<string>();
        await App.DrainQueuesAsync();
        await directory.DeleteAsync($"/Groups/{groupId}");
        // The same event dispatched and its tasks delivered again before the first run (redelivery).
        var deleted = (await directory.EventsAsync(App)).Single(e => e["type"]!.GetValue<string>() == DirectoryEvents.GroupDeleted);
        var record = EventDispatcher.Read(deleted.ToJsonString())!;
        var tasks = await GroupMembershipRemoval.TasksAsync(record, App.Get<DirectoryGroupStore>(), default);
        var queue = App.Get<IWorkQueue>();
        await queue.SendAsync(DeprovisionWorker.QueueName, tasks, default);
        await queue.SendAsync(EventDispatcher.QueueName, [EventDispatcher.Envelope(record)], default);
        await App.DrainQueuesAsync();

        var removed = (await directory.EventsAsync(App)).Where(e => e["type"]!.GetValue<string>() == DirectoryEvents.GroupUserRemoved).ToList();
        Assert.Equal(5, removed.Count);
        Assert.Equal(5, removed.Select(e => e["data"]!["user"]!["id"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task A_member_deprovisioned_while_the_fan_out_is_pending_is_removed_once()
    {
        var directory = await ScimTestDirectory.CreateAsync(App);
        var members = await CreateUsersAsync(directory, 3);
        var groupId = (await directory.CreateGroupAsync("Race " + Guid.NewGuid().ToString("N")[..6], [.. members]))["id"]!.GetValue<string>();
        await App.DrainQueuesAsync();

        await directory.DeleteAsync($"/Groups/{groupId}");
        await directory.PatchAsync($"/Users/{members[0]}", """[{"op":"replace","path":"active","value":false}]""");
        await directory.DeleteAsync($"/Users/{members[1]}");
        await App.DrainQueuesAsync();

        var store = App.Get<DirectoryGroupStore>();
        Assert.Empty(await store.ListMembersAsync(new DirectoryId(directory.DirectoryId), groupId, default));
        var removed = (await directory.EventsAsync(App)).Where(e => e["type"]!.GetValue<string>() == DirectoryEvents.GroupUserRemoved).ToList();
        Assert.Equal(members.Order(StringComparer.Ordinal), removed.Select(e => e["data"]!["user"]!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.All(removed, e => Assert.Equal(groupId, e["data"]!["group"]!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_group_created_again_under_the_same_name_keeps_its_members_and_role()
    {
        var name = "Admins " + Guid.NewGuid().ToString("N")[..6];
        var directory = await ScimTestDirectory.CreateAsync(App, settings: AdminsMapping(name));
        var members = await CreateUsersAsync(directory, 3);
        var oldId = (await directory.CreateGroupAsync(name, [.. members]))["id"]!.GetValue<string>();
        await App.DrainQueuesAsync();

        await directory.DeleteAsync($"/Groups/{oldId}");
        // The IdP pushes the group again (same displayName and externalId) before the fan-out ran.
        var created = await ScimTestDirectory.ReadAsync(await directory.PostAsync("/Groups", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"{{name}}","externalId":"ext-{{name}}",
             "members":[{"value":"{{members[0]}}"},{"value":"{{members[1]}}"}]}
            """));
        var newId = created["id"]!.GetValue<string>();
        await App.DrainQueuesAsync();

        var store = App.Get<DirectoryGroupStore>();
        var directoryId = new DirectoryId(directory.DirectoryId);
        Assert.Empty(await store.ListMembersAsync(directoryId, oldId, default));
        Assert.Equal(members.Take(2).Order(StringComparer.Ordinal),
            (await store.ListMembersAsync(directoryId, newId, default)).Select(m => m.MemberId).Order(StringComparer.Ordinal));
        var found = await ScimTestDirectory.ReadAsync(await directory.GetAsync($"/Groups?filter=displayName eq \"{name}\""));
        Assert.Equal(newId, Assert.Single(found["Resources"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal("admin", (await directory.DirectoryUserAsync(members[0]))["role"]!.GetValue<string>());
        Assert.Equal("member", (await directory.DirectoryUserAsync(members[2]))["role"]!.GetValue<string>());
        // The member who lost the role for good hears of it from the fan-out; for each member the
        // last role change in the feed is the role they have.
        var events = await directory.EventsAsync(App);
        var deletedAt = events.FindIndex(e => e["type"]!.GetValue<string>() == DirectoryEvents.GroupDeleted);
        var roleChanged = events.Where(e => e["type"]!.GetValue<string>() == RoleChanges.RoleChanged).ToList();
        Assert.Contains(events.Skip(deletedAt + 1), e => e["type"]!.GetValue<string>() == RoleChanges.RoleChanged
                                                         && e["data"]!["user"]!["id"]!.GetValue<string>() == members[2]);
        foreach (var (member, role) in new[] { (members[0], "admin"), (members[1], "admin"), (members[2], "member") })
            Assert.Equal(role, roleChanged.Last(e => e["data"]!["user"]!["id"]!.GetValue<string>() == member)["data"]!["role"]!.GetValue<string>());
    }
}
