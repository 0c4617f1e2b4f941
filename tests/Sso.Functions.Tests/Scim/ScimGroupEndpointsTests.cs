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
}
