using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Tenants;
using Sso.Functions.Tests.Scim;
using Sso.Protocols;
using Sso.Protocols.Scim.Patch;
using Sso.Testing;

namespace Sso.Functions.Tests.DirectorySync;

/// <summary>
/// <see cref="DirectoryGroupChanges"/> called from DI, as the SCIM group endpoints call it: typed
/// inputs, a typed status for every refusal, the group and its member rows in storage as the result.
/// </summary>
public sealed class DirectoryGroupChangesTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static readonly DirectoryChanges.Retry Once = new(1, BackOff: false);

    private SsoAppFactory App => fixture.App;

    private DirectoryGroupChanges Changes => App.Get<DirectoryGroupChanges>();

    private DirectoryGroupStore Groups => App.Get<DirectoryGroupStore>();

    private async Task<(DirectoryRecord Directory, string UserId, string OtherUserId)> DirectoryWithTwoUsersAsync()
    {
        var scim = await ScimTestDirectory.CreateAsync(App);
        var user = await scim.CreateUserAsync($"ada{Guid.NewGuid():N}@corp.test");
        var other = await scim.CreateUserAsync($"bob{Guid.NewGuid():N}@corp.test");
        var directory = await App.Get<DirectoryRecordStore>().FindDirectoryAsync(new DirectoryId(scim.DirectoryId), default);
        return (directory!, user["id"]!.GetValue<string>(), other["id"]!.GetValue<string>());
    }

    private static Result<JsonObject, string> Rename(JsonObject current, string displayName)
    {
        var changed = current.DeepClone().AsObject();
        changed["displayName"] = displayName;
        return changed;
    }

    [Fact]
    public async Task Creates_a_group_with_its_members_as_rows()
    {
        var (directory, userId, _) = await DirectoryWithTwoUsersAsync();

        var created = await Changes.CreateAsync<string>(directory, TenantSettings.Default, new JsonObject { ["displayName"] = "Engineering" },
            [userId], Once, default);

        Assert.Equal(DirectoryGroupChanges.Status.Done, created.Status);
        var stored = await Groups.FindGroupAsync(directory.Id, created.Group!.Id, default);
        Assert.Equal("Engineering", stored!.DisplayName);
        Assert.Equal(userId, Assert.Single(await Groups.ListMembersAsync(directory.Id, stored.Id, default)).MemberId);
    }

    [Fact]
    public async Task Refuses_a_new_group_with_an_unknown_member_and_writes_nothing()
    {
        var (directory, userId, _) = await DirectoryWithTwoUsersAsync();

        var refused = await Changes.CreateAsync<string>(directory, TenantSettings.Default, new JsonObject { ["displayName"] = "Ghosts" },
            [userId, "usr_missing"], Once, default);

        Assert.Equal(DirectoryGroupChanges.Status.UnknownMembers, refused.Status);
        Assert.Equal("usr_missing", Assert.Single(refused.UnknownMembers!));
        await foreach (var group in Groups.QueryGroupsAsync(directory.Id, default)) Assert.Fail($"A group was written: {group.Id}");
    }

    [Fact]
    public async Task Renames_a_group_and_replaces_its_members_under_the_group_rows_ETag()
    {
        var (directory, userId, otherUserId) = await DirectoryWithTwoUsersAsync();
        var group = (await Changes.CreateAsync<string>(directory, TenantSettings.Default, new JsonObject { ["displayName"] = "Eng" },
            [userId], Once, default)).Group!;

        var changed = await Changes.ChangeAsync<string>(directory, TenantSettings.Default, group.Id, _ => true, current => Rename(current, "Engineering"),
            ScimMembershipDelta.ReplaceWith([otherUserId]), ifMatch: false, Once, default);

        Assert.Equal(DirectoryGroupChanges.Status.Done, changed.Status);
        var stored = await Groups.FindGroupAsync(directory.Id, group.Id, default);
        Assert.Equal(("Engineering", 2L), (stored!.DisplayName, stored.Version));
        Assert.Equal(otherUserId, Assert.Single(await Groups.ListMembersAsync(directory.Id, group.Id, default)).MemberId);
    }

    [Fact]
    public async Task Answers_each_refusal_with_its_status_and_leaves_the_group_as_it_was()
    {
        var (directory, userId, _) = await DirectoryWithTwoUsersAsync();
        var group = (await Changes.CreateAsync<string>(directory, TenantSettings.Default, new JsonObject { ["displayName"] = "Eng" },
            [userId], Once, default)).Group!;
        var none = ScimMembershipDelta.None;

        var missing = await Changes.ChangeAsync<string>(directory, TenantSettings.Default, "grp_missing", _ => true, c => c, none, false, Once, default);
        var stale = await Changes.ChangeAsync<string>(directory, TenantSettings.Default, group.Id, _ => false, c => Rename(c, "X"), none, true, Once, default);
        var invalid = await Changes.ChangeAsync<string>(directory, TenantSettings.Default, group.Id, _ => true, _ => "no renames today", none, false, Once, default);
        var unknown = await Changes.ChangeAsync<string>(directory, TenantSettings.Default, group.Id, _ => true, c => c,
            new ScimMembershipDelta(false, new HashSet<string> { "usr_missing" }, new HashSet<string>()), false, Once, default);
        var unchanged = await Changes.ChangeAsync<string>(directory, TenantSettings.Default, group.Id, _ => true, c => c,
            new ScimMembershipDelta(false, new HashSet<string>(), new HashSet<string> { "usr_not_a_member" }), false, Once, default);

        Assert.Equal(DirectoryGroupChanges.Status.NotFound, missing.Status);
        Assert.Equal(DirectoryGroupChanges.Status.PreconditionFailed, stale.Status);
        Assert.Equal((DirectoryGroupChanges.Status.Invalid, "no renames today"), (invalid.Status, invalid.Error));
        Assert.Equal((DirectoryGroupChanges.Status.UnknownMembers, "usr_missing"), (unknown.Status, Assert.Single(unknown.UnknownMembers!)));
        Assert.Equal((DirectoryGroupChanges.Status.Unchanged, group.Id), (unchanged.Status, unchanged.Group!.Id));
        var stored = await Groups.FindGroupAsync(directory.Id, group.Id, default);
        Assert.Equal(("Eng", 1L), (stored!.DisplayName, stored.Version));
        Assert.Equal(userId, Assert.Single(await Groups.ListMembersAsync(directory.Id, group.Id, default)).MemberId);
    }
}
