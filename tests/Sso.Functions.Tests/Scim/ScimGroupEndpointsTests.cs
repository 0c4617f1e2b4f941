using System.Net;
using System.Text.Json.Nodes;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.Scim;

public class ScimGroupEndpointsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private static string UniqueName(string prefix = "user") => $"{prefix}.{Guid.NewGuid():N}@example.com";

    private static async Task<string[]> MemberIdsAsync(ScimTestDirectory directory, string groupId)
    {
        var group = await ReadAsync(await directory.GetAsync($"/Groups/{groupId}"));
        return (group["members"] as JsonArray)?.Select(m => m!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToArray() ?? [];
    }

    [Fact]
    public async Task Runs_the_Entra_ID_group_provisioning_sequence()
    {
        var directory = await CreateAsync(App, "entra");
        var alice = (await directory.CreateUserAsync(UniqueName("alice")))["id"]!.GetValue<string>();
        var bob = (await directory.CreateUserAsync(UniqueName("bob")))["id"]!.GetValue<string>();
        var displayName = "Group " + Guid.NewGuid();

        var lookup = await ReadAsync(await directory.GetAsync($"/Groups?excludedAttributes=members&filter=displayName eq \"{displayName}\""));
        Assert.Equal(0, lookup["totalResults"]!.GetValue<int>());

        var create = await directory.PostAsync("/Groups", $$"""
            {"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","id":"c4a2d2b2-ignored","displayName":"{{displayName}}","meta":{"resourceType":"Group"},
             "schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"]}
            """);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var group = await ReadAsync(create);
        var id = group["id"]!.GetValue<string>();
        Assert.StartsWith("grp_", id);
        Assert.Equal($"{directory.ScimBaseUrl}/Groups/{id}", create.Headers.Location?.ToString());

        var byName = await ReadAsync(await directory.GetAsync($"/Groups?excludedAttributes=members&filter=displayName eq \"{displayName.ToUpperInvariant()}\""));
        Assert.Equal(1, byName["totalResults"]!.GetValue<int>());
        Assert.Null(byName["Resources"]![0]!["members"]);

        var renamedTo = displayName + "updatedDisplayName";
        Assert.Equal(HttpStatusCode.NoContent, (await directory.PatchAsync($"/Groups/{id}", $$"""[{"op":"Replace","path":"displayName","value":"{{renamedTo}}"}]""")).StatusCode);
        var renamed = await ReadAsync(await directory.GetAsync($"/Groups/{id}?excludedAttributes=members"));
        Assert.Equal(renamedTo, renamed["displayName"]!.GetValue<string>());
        Assert.Null(renamed["members"]);

        Assert.Equal(HttpStatusCode.NoContent, (await directory.PatchAsync($"/Groups/{id}", $$"""[{"op":"Add","path":"members","value":[{"$ref":null,"value":"{{alice}}"},{"$ref":null,"value":"{{bob}}"}]}]""")).StatusCode);
        Assert.Equal(new[] { alice, bob }.Order(StringComparer.Ordinal), await MemberIdsAsync(directory, id));

        Assert.Equal(HttpStatusCode.NoContent, (await directory.PatchAsync($"/Groups/{id}", $$"""[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"{{alice}}"}]}]""")).StatusCode);
        Assert.Equal([bob], await MemberIdsAsync(directory, id));

        Assert.Equal(HttpStatusCode.NoContent, (await directory.DeleteAsync($"/Groups/{id}")).StatusCode);
        await AssertScimErrorAsync(await directory.GetAsync($"/Groups/{id}"), HttpStatusCode.NotFound, null);
        Assert.Empty((await directory.DirectoryUserAsync(bob))["groups"]!.AsArray());

        // The deleted event fans the removal of the remaining member out as a queued task.
        for (var round = 0; round < 5 && await App.Get<Sso.Functions.Hosting.LocalQueueDispatcher>().DrainOnceAsync(default) > 0; round++) { }
        var types = (await directory.EventsAsync(App)).Select(e => e["type"]!.GetValue<string>()).Where(t => t.StartsWith("dsync.group")).ToList();
        Assert.Equal(["dsync.group.created", "dsync.group.updated", "dsync.group.user_added", "dsync.group.user_added",
            "dsync.group.user_removed", "dsync.group.deleted", "dsync.group.user_removed"], types);
    }

    [Fact]
    public async Task Runs_the_Okta_group_push_sequence()
    {
        var directory = await CreateAsync(App, "okta");
        var first = (await directory.CreateUserAsync(UniqueName("first")))["id"]!.GetValue<string>();
        var second = (await directory.CreateUserAsync(UniqueName("second")))["id"]!.GetValue<string>();
        var displayName = "Test SCIMv2 " + Guid.NewGuid().ToString("N")[..8];

        var none = await ReadAsync(await directory.GetAsync($"/Groups?filter=displayName eq \"{displayName}\"&startIndex=1&count=100"));
        Assert.Equal(0, none["totalResults"]!.GetValue<int>());

        var created = await ReadAsync(await directory.PostAsync("/Groups", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"{{displayName}}","members":[{"value":"{{first}}","display":"first"}]}
            """));
        var id = created["id"]!.GetValue<string>();
        Assert.Equal([first], created["members"]!.AsArray().Select(m => m!["value"]!.GetValue<string>()));

        // Okta renames with a path-less replace that repeats the group's id.
        var rename = await directory.PatchAsync($"/Groups/{id}", $$"""[{"op":"replace","value":{"id":"{{id}}","displayName":"{{displayName}} renamed"} }]""");
        Assert.Equal(HttpStatusCode.NoContent, rename.StatusCode);

        // Okta swaps members: remove by value filter, add with display.
        var swap = await directory.PatchAsync($"/Groups/{id}", $$"""
            [{"op":"remove","path":"members[value eq \"{{first}}\"]"},{"op":"add","path":"members","value":[{"value":"{{second}}","display":"second"}]}]
            """);
        Assert.Equal(HttpStatusCode.NoContent, swap.StatusCode);
        Assert.Equal([second], await MemberIdsAsync(directory, id));

        // Removing a member that is not there is not an error.
        Assert.Equal(HttpStatusCode.NoContent, (await directory.PatchAsync($"/Groups/{id}", $$"""[{"op":"remove","path":"members[value eq \"{{first}}\"]"}]""")).StatusCode);

        // A full PUT replaces the membership.
        var put = await directory.PutAsync($"/Groups/{id}", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"{{id}}","displayName":"{{displayName}} renamed","members":[{"value":"{{first}}"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal([first], await MemberIdsAsync(directory, id));

        // Replace members, then remove them all.
        Assert.Equal(HttpStatusCode.NoContent, (await directory.PatchAsync($"/Groups/{id}", $$"""[{"op":"replace","path":"members","value":[{"value":"{{first}}"},{"value":"{{second}}"}]}]""")).StatusCode);
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), await MemberIdsAsync(directory, id));
        Assert.Equal(HttpStatusCode.NoContent, (await directory.PatchAsync($"/Groups/{id}", """[{"op":"remove","path":"members"}]""")).StatusCode);
        Assert.Empty(await MemberIdsAsync(directory, id));

        var read = await ReadAsync(await directory.GetAsync($"/Groups/{id}"));
        Assert.Equal(displayName + " renamed", read["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Keeps_every_member_of_fifty_parallel_add_PATCHes()
    {
        var directory = await CreateAsync(App);
        var users = new List<string>();
        for (var i = 0; i < 50; i++) users.Add((await directory.CreateUserAsync(UniqueName("member")))["id"]!.GetValue<string>());
        var groupId = (await directory.CreateGroupAsync("Concurrent"))["id"]!.GetValue<string>();

        var responses = await Task.WhenAll(users.Select(user =>
            directory.PatchAsync($"/Groups/{groupId}", $$"""[{"op":"Add","path":"members","value":[{"value":"{{user}}"}]}]""")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
        Assert.Equal(users.Order(StringComparer.Ordinal), await MemberIdsAsync(directory, groupId));
        var events = await directory.EventsAsync(App);
        Assert.Equal(50, events.Count(e => e["type"]!.GetValue<string>() == "dsync.group.user_added"));
    }

    [Fact]
    public async Task Refuses_a_member_that_is_not_in_the_directory_and_adds_none()
    {
        var directory = await CreateAsync(App);
        var known = (await directory.CreateUserAsync(UniqueName()))["id"]!.GetValue<string>();
        var groupId = (await directory.CreateGroupAsync("Strict"))["id"]!.GetValue<string>();

        var response = await directory.PatchAsync($"/Groups/{groupId}", $$"""[{"op":"add","path":"members","value":[{"value":"{{known}}"},{"value":"usr_stranger"}]}]""");

        await AssertScimErrorAsync(response, HttpStatusCode.BadRequest, "invalidValue");
        Assert.Empty(await MemberIdsAsync(directory, groupId));
    }

    [Theory]
    [InlineData("no displayName", "POST", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"members":[]}""", "invalidValue")]
    [InlineData("members selected by display", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[display eq \"x\"]"}]}""", "invalidFilter")]
    [InlineData("a change of the group's id", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"id","value":"grp_other"}]}""", "mutability")]
    [InlineData("an emptied displayName", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":""}]}""", "invalidValue")]
    [InlineData("malformed JSON", "PATCH", "{\"schemas\":", "invalidSyntax")]
    public async Task Answers_bad_group_input_with_a_SCIM_error(string name, string method, string body, string scimType)
    {
        var directory = await CreateAsync(App);
        var group = await directory.CreateGroupAsync("Unchanged");
        var id = group["id"]!.GetValue<string>();

        var response = await directory.Scim.SendAsync(new HttpRequestMessage(new HttpMethod(method), method == "POST" ? $"{directory.Base}/Groups" : $"{directory.Base}/Groups/{id}")
        {
            Content = Body(body),
        });

        await AssertScimErrorAsync(response, HttpStatusCode.BadRequest, scimType);
        Assert.True("Unchanged" == (await ReadAsync(await directory.GetAsync($"/Groups/{id}")))["displayName"]!.GetValue<string>(), name);
    }

    [Fact]
    public async Task Filters_groups_by_member()
    {
        var directory = await CreateAsync(App);
        var user = (await directory.CreateUserAsync(UniqueName()))["id"]!.GetValue<string>();
        var withUser = (await directory.CreateGroupAsync("With", user))["id"]!.GetValue<string>();
        await directory.CreateGroupAsync("Without");

        var result = await ReadAsync(await directory.GetAsync("/Groups?filter=" + Uri.EscapeDataString($"members[value eq \"{user}\"]")));

        Assert.Equal(1, result["totalResults"]!.GetValue<int>());
        Assert.Equal(withUser, result["Resources"]![0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Removes_a_deleted_user_from_its_groups()
    {
        var directory = await CreateAsync(App);
        var user = (await directory.CreateUserAsync(UniqueName()))["id"]!.GetValue<string>();
        var groupId = (await directory.CreateGroupAsync("Leavers", user))["id"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NoContent, (await directory.DeleteAsync($"/Users/{user}")).StatusCode);

        Assert.Empty(await MemberIdsAsync(directory, groupId));
    }

    private static string AddOne(string userId) => $$"""[{"op":"Add","path":"members","value":[{"value":"{{userId}}"}]}]""";

    private static int Count(List<JsonObject> events, string type, string groupId, string userId) =>
        events.Count(e => e["type"]!.GetValue<string>() == type && e["data"]!["group"]?["id"]?.GetValue<string>() == groupId
                          && e["data"]!["user"]?["id"]?.GetValue<string>() == userId);

    [Fact]
    public async Task Adds_sixteen_parallel_members_to_one_group_without_rewriting_the_group_row()
    {
        var directory = await CreateAsync(App);
        var users = new List<string>();
        for (var i = 0; i < 16; i++) users.Add((await directory.CreateUserAsync(UniqueName("member")))["id"]!.GetValue<string>());
        var groupId = (await directory.CreateGroupAsync("Sixteen"))["id"]!.GetValue<string>();

        var responses = await Task.WhenAll(users.Select(user => directory.PatchAsync($"/Groups/{groupId}", AddOne(user))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
        // Each add named its own version of the group: none was a retry of another's.
        Assert.Equal(16, responses.Select(r => r.Headers.ETag!.Tag).Distinct().Count());
        Assert.Equal(users.Order(StringComparer.Ordinal), await MemberIdsAsync(directory, groupId));
        var group = await App.Get<Sso.Functions.DirectorySync.DirectoryGroupStore>()
            .FindGroupAsync(new Sso.Functions.DirectorySync.DirectoryId(directory.DirectoryId), groupId, default);
        Assert.Equal(1, group!.Version);
        var groupsByMember = await App.Get<Sso.Functions.DirectorySync.DirectoryGroupStore>()
            .ListGroupIdsByMemberAsync(new Sso.Functions.DirectorySync.DirectoryId(directory.DirectoryId), default);
        Assert.All(users, user => Assert.Equal([groupId], groupsByMember[user]));
        var events = await directory.EventsAsync(App);
        Assert.All(users, user => Assert.Equal(1, Count(events, "dsync.group.user_added", groupId, user)));
    }

    [Fact]
    public async Task Adds_the_new_members_of_a_PATCH_that_names_an_existing_one_and_emits_one_event_each()
    {
        var directory = await CreateAsync(App);
        var existing = (await directory.CreateUserAsync(UniqueName("existing")))["id"]!.GetValue<string>();
        var first = (await directory.CreateUserAsync(UniqueName("first")))["id"]!.GetValue<string>();
        var second = (await directory.CreateUserAsync(UniqueName("second")))["id"]!.GetValue<string>();
        var groupId = (await directory.CreateGroupAsync("Mixed", existing))["id"]!.GetValue<string>();
        var version = (await directory.GetAsync($"/Groups/{groupId}")).Headers.ETag!.Tag;

        var again = await directory.PatchAsync($"/Groups/{groupId}", AddOne(existing));
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        Assert.Equal(version, again.Headers.ETag!.Tag);

        var mixed = await directory.PatchAsync($"/Groups/{groupId}",
            $$"""[{"op":"Add","path":"members","value":[{"value":"{{first}}"},{"value":"{{existing}}"},{"value":"{{second}}"}]}]""");

        Assert.Equal(HttpStatusCode.NoContent, mixed.StatusCode);
        Assert.NotEqual(version, mixed.Headers.ETag!.Tag);
        Assert.Equal(new[] { existing, first, second }.Order(StringComparer.Ordinal), await MemberIdsAsync(directory, groupId));
        var events = await directory.EventsAsync(App);
        Assert.Equal(1, Count(events, "dsync.group.user_added", groupId, existing));
        Assert.Equal(1, Count(events, "dsync.group.user_added", groupId, first));
        Assert.Equal(1, Count(events, "dsync.group.user_added", groupId, second));
    }

    [Fact]
    public async Task Keeps_the_group_version_contract_when_only_members_change()
    {
        var directory = await CreateAsync(App);
        var alice = (await directory.CreateUserAsync(UniqueName("alice")))["id"]!.GetValue<string>();
        var bob = (await directory.CreateUserAsync(UniqueName("bob")))["id"]!.GetValue<string>();
        var groupId = (await directory.CreateGroupAsync("Versioned"))["id"]!.GetValue<string>();
        var created = (await directory.GetAsync($"/Groups/{groupId}")).Headers.ETag!;

        var added = await directory.PatchAsync($"/Groups/{groupId}", AddOne(alice));
        Assert.Equal(HttpStatusCode.NoContent, added.StatusCode);
        var current = added.Headers.ETag!;
        Assert.NotEqual(created.Tag, current.Tag);
        var read = await directory.GetAsync($"/Groups/{groupId}");
        Assert.Equal(current.Tag, read.Headers.ETag!.Tag);
        Assert.Equal(current.ToString(), (await ReadAsync(read))["meta"]!["version"]!.GetValue<string>());

        var notModified = new HttpRequestMessage(HttpMethod.Get, $"{directory.Base}/Groups/{groupId}");
        notModified.Headers.IfNoneMatch.Add(current);
        Assert.Equal(HttpStatusCode.NotModified, (await directory.Scim.SendAsync(notModified)).StatusCode);

        var stale = new HttpRequestMessage(HttpMethod.Patch, $"{directory.Base}/Groups/{groupId}")
        {
            Content = Body($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{AddOne(bob)}}}"""),
        };
        stale.Headers.IfMatch.Add(created);
        await AssertScimErrorAsync(await directory.Scim.SendAsync(stale), HttpStatusCode.PreconditionFailed, null);
        Assert.Equal([alice], await MemberIdsAsync(directory, groupId));

        var fresh = new HttpRequestMessage(HttpMethod.Patch, $"{directory.Base}/Groups/{groupId}")
        {
            Content = Body($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{AddOne(bob)}}}"""),
        };
        fresh.Headers.IfMatch.Add(current);
        Assert.Equal(HttpStatusCode.NoContent, (await directory.Scim.SendAsync(fresh)).StatusCode);
        Assert.Equal(new[] { alice, bob }.Order(StringComparer.Ordinal), await MemberIdsAsync(directory, groupId));
    }

    [Fact]
    public async Task Ends_consistent_when_a_PUT_of_members_races_single_adds()
    {
        var directory = await CreateAsync(App);
        var users = new List<string>();
        for (var i = 0; i < 14; i++) users.Add((await directory.CreateUserAsync(UniqueName("racer")))["id"]!.GetValue<string>());
        var (initial, put, single) = (users[..2], users[2..4], users[4..]);
        var displayName = "Raced " + Guid.NewGuid().ToString("N")[..6];
        var groupId = (await directory.CreateGroupAsync(displayName, [.. initial]))["id"]!.GetValue<string>();
        var members = string.Join(",", put.Select(id => $$"""{"value":"{{id}}"}"""));

        var adds = single.Select(user => directory.PatchAsync($"/Groups/{groupId}", AddOne(user))).ToList();
        var replace = directory.PutAsync($"/Groups/{groupId}",
            $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"{{displayName}}","members":[{{members}}]}""");
        var responses = await Task.WhenAll([.. adds, replace]);

        Assert.All(responses, r => Assert.True(r.IsSuccessStatusCode, $"{(int)r.StatusCode}"));
        var final = await MemberIdsAsync(directory, groupId);
        Assert.Superset(put.ToHashSet(), final.ToHashSet());
        Assert.DoesNotContain(initial[0], final);
        Assert.DoesNotContain(initial[1], final);
        // The mirror rows and the events agree with the member rows, for every user.
        var groupsByMember = await App.Get<Sso.Functions.DirectorySync.DirectoryGroupStore>()
            .ListGroupIdsByMemberAsync(new Sso.Functions.DirectorySync.DirectoryId(directory.DirectoryId), default);
        var events = await directory.EventsAsync(App);
        Assert.All(users, user =>
        {
            var isMember = final.Contains(user);
            Assert.Equal(isMember, groupsByMember.TryGetValue(user, out var groups) && groups.Contains(groupId));
            var net = Count(events, "dsync.group.user_added", groupId, user) - Count(events, "dsync.group.user_removed", groupId, user);
            Assert.Equal(isMember ? 1 : 0, net);
        });
    }

    [Theory]
    [InlineData("?attributes=displayName")]
    [InlineData("?excludedAttributes=members")]
    public async Task Answers_a_PATCH_that_asks_for_attributes_with_200_and_the_group(string query)
    {
        // RFC 7644 §3.5.2: with 'attributes' the server returns 200 and the resource, not 204.
        var directory = await CreateAsync(App);
        var alice = (await directory.CreateUserAsync(UniqueName("alice")))["id"]!.GetValue<string>();
        var id = (await directory.CreateGroupAsync("Projected " + Guid.NewGuid().ToString("N")[..6]))["id"]!.GetValue<string>();

        foreach (var operations in new[]
                 {
                     $$"""[{"op":"Add","path":"members","value":[{"value":"{{alice}}"}]}]""",
                     """[{"op":"Replace","path":"displayName","value":"Projected, renamed"}]""",
                 })
        {
            var response = await directory.Scim.PatchAsync(directory.Base + $"/Groups/{id}" + query,
                Body($$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{operations}}}"""));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var group = await ReadAsync(response);
            Assert.Equal(id, group["id"]!.GetValue<string>());
            Assert.NotNull(group["displayName"]);
            Assert.Null(group["members"]);
            Assert.NotNull(response.Headers.ETag);
        }
        Assert.Equal(HttpStatusCode.NoContent,
            (await directory.PatchAsync($"/Groups/{id}", """[{"op":"Replace","path":"displayName","value":"Projected, plain"}]""")).StatusCode);
    }
}
