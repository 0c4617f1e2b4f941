using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.Scim;

/// <summary>The read-only <c>groups</c> of a SCIM User (RFC 7643 §4.1.2) and member displays that follow renames.</summary>
public class ScimUserGroupsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private static string UniqueName(string prefix = "user") => $"{prefix}.{Guid.NewGuid():N}@example.com";

    private static string Id(JsonObject resource) => resource["id"]!.GetValue<string>();

    private static string[] GroupIds(JsonObject user) =>
        user["groups"]!.AsArray().Select(g => g!["value"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToArray();

    private static string UserBody(string userName, string title = "Engineer") => $$"""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}","active":true,"title":"{{title}}",
         "emails":[{"primary":true,"type":"work","value":"{{userName}}"}]}
        """;

    private static async Task<Dictionary<string, string?>> MemberDisplaysAsync(ScimTestDirectory directory, string groupId) =>
        (await ReadAsync(await directory.GetAsync($"/Groups/{groupId}")))["members"]!.AsArray()
        .ToDictionary(m => m!["value"]!.GetValue<string>(), m => m!["display"]?.GetValue<string>());

    private static async Task<Dictionary<string, string?>> ManagementMemberUserNamesAsync(ScimTestDirectory directory, string groupId)
    {
        var page = (await directory.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directory.DirectoryId}/groups?limit=200"))!;
        var group = page["data"]!.AsArray().Single(g => g!["id"]!.GetValue<string>() == groupId)!;
        return group["members"]!.AsArray().ToDictionary(m => m!["id"]!.GetValue<string>(), m => m!["userName"]?.GetValue<string>());
    }

    [Fact]
    public async Task Returns_the_direct_groups_of_a_user_on_every_response_that_carries_the_user()
    {
        var directory = await CreateAsync(App);
        var userName = UniqueName("alice");
        var create = await directory.PostAsync("/Users", UserBody(userName));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var created = await ReadAsync(create);
        Assert.Empty(created["groups"]!.AsArray());
        var userId = Id(created);

        var engineering = Id(await directory.CreateGroupAsync("Engineering", userId));
        var admins = Id(await directory.CreateGroupAsync("Admins", userId));
        var unrelated = Id(await directory.CreateGroupAsync("Sales"));

        var fetched = await ReadAsync(await directory.GetAsync($"/Users/{userId}"));
        Assert.Equal(new[] { engineering, admins }.Order(StringComparer.Ordinal), GroupIds(fetched));
        var admin = fetched["groups"]!.AsArray().Single(g => g!["value"]!.GetValue<string>() == admins)!;
        Assert.Equal("Admins", admin["display"]!.GetValue<string>());
        Assert.Equal("direct", admin["type"]!.GetValue<string>());
        Assert.Equal($"{directory.ScimBaseUrl}/Groups/{admins}", admin["$ref"]!.GetValue<string>());
        Assert.DoesNotContain(unrelated, GroupIds(fetched));

        var listed = await ReadAsync(await directory.GetAsync($"/Users?filter=userName eq \"{userName}\""));
        Assert.Equal(new[] { engineering, admins }.Order(StringComparer.Ordinal), GroupIds(listed["Resources"]![0]!.AsObject()));
        var scanned = await ReadAsync(await directory.GetAsync("/Users?count=10"));
        Assert.Equal(new[] { engineering, admins }.Order(StringComparer.Ordinal), GroupIds(scanned["Resources"]![0]!.AsObject()));

        var put = await directory.PutAsync($"/Users/{userId}", UserBody(userName, "Staff Engineer"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(new[] { engineering, admins }.Order(StringComparer.Ordinal), GroupIds(await ReadAsync(put)));

        var patch = await directory.PatchAsync($"/Users/{userId}", """[{"op":"Replace","path":"title","value":"Principal"}]""");
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal(new[] { engineering, admins }.Order(StringComparer.Ordinal), GroupIds(await ReadAsync(patch)));

        Assert.Equal(HttpStatusCode.NoContent,
            (await directory.PatchAsync($"/Groups/{admins}", $$"""[{"op":"Remove","path":"members[value eq \"{{userId}}\"]"}]""")).StatusCode);
        Assert.Equal([engineering], GroupIds(await ReadAsync(await directory.GetAsync($"/Users/{userId}"))));
    }

    [Fact]
    public async Task Leaves_groups_out_when_attributes_or_excludedAttributes_say_so()
    {
        var directory = await CreateAsync(App);
        var userName = UniqueName();
        var userId = Id(await directory.CreateUserAsync(userName));
        var group = Id(await directory.CreateGroupAsync("Engineering", userId));

        var excluded = await ReadAsync(await directory.GetAsync($"/Users/{userId}?excludedAttributes=groups"));
        Assert.Null(excluded["groups"]);
        Assert.Equal(userName, excluded["userName"]!.GetValue<string>());

        var onlyUserName = await ReadAsync(await directory.GetAsync($"/Users/{userId}?attributes=userName"));
        Assert.Null(onlyUserName["groups"]);

        var onlyDisplays = await ReadAsync(await directory.GetAsync($"/Users/{userId}?attributes=groups.display"));
        Assert.Null(onlyDisplays["userName"]);
        Assert.Equal("""[{"display":"Engineering"}]""", onlyDisplays["groups"]!.ToJsonString());

        var listExcluded = await ReadAsync(await directory.GetAsync($"/Users?excludedAttributes=groups&filter=userName eq \"{userName}\""));
        Assert.Null(listExcluded["Resources"]![0]!["groups"]);
        var listOnlyGroups = await ReadAsync(await directory.GetAsync($"/Users?attributes=groups&filter=userName eq \"{userName}\""));
        Assert.Equal([group], GroupIds(listOnlyGroups["Resources"]![0]!.AsObject()));

        var patched = await ReadAsync(await directory.PatchAsync($"/Users/{userId}?excludedAttributes=groups",
            """[{"op":"Replace","path":"title","value":"Lead"}]"""));
        Assert.Null(patched["groups"]);
        Assert.Equal("Lead", patched["title"]!.GetValue<string>());

        await AssertScimErrorAsync(await directory.PatchAsync($"/Users/{userId}?attributes=groups[", """[{"op":"Replace","path":"title","value":"X"}]"""),
            HttpStatusCode.BadRequest, "invalidPath");
        Assert.Equal("Lead", (await ReadAsync(await directory.GetAsync($"/Users/{userId}")))["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Shows_a_group_rename_in_the_groups_of_its_members()
    {
        var directory = await CreateAsync(App);
        var userId = Id(await directory.CreateUserAsync(UniqueName()));
        var group = Id(await directory.CreateGroupAsync("Engineering", userId));

        Assert.Equal(HttpStatusCode.NoContent,
            (await directory.PatchAsync($"/Groups/{group}", """[{"op":"Replace","path":"displayName","value":"Platform Engineering"}]""")).StatusCode);

        var user = await ReadAsync(await directory.GetAsync($"/Users/{userId}"));
        Assert.Equal("Platform Engineering", user["groups"]![0]!["display"]!.GetValue<string>());
    }

    [Fact]
    public async Task Filters_users_by_their_groups()
    {
        var directory = await CreateAsync(App);
        var inGroupName = UniqueName("member");
        var inGroup = Id(await directory.CreateUserAsync(inGroupName));
        var outside = Id(await directory.CreateUserAsync(UniqueName("outsider")));
        var group = Id(await directory.CreateGroupAsync("Finance", inGroup));

        foreach (var filter in new[]
                 {
                     $"groups[value eq \"{group}\"]", $"groups.value eq \"{group}\"", "groups.display eq \"finance\"", "groups pr",
                     $"userName eq \"{inGroupName}\" and groups[display eq \"Finance\"]",
                 })
        {
            var result = await ReadAsync(await directory.GetAsync($"/Users?filter={Uri.EscapeDataString(filter)}"));
            Assert.True(1 == result["totalResults"]!.GetValue<int>(), filter);
            Assert.Equal(inGroup, Id(result["Resources"]![0]!.AsObject()));
        }

        var notInGroup = await ReadAsync(await directory.GetAsync($"/Users?filter={Uri.EscapeDataString($"not (groups.value eq \"{group}\")")}"));
        Assert.Equal([outside], notInGroup["Resources"]!.AsArray().Select(u => Id(u!.AsObject())));
        var noMatch = await ReadAsync(await directory.GetAsync($"/Users?filter={Uri.EscapeDataString($"userName eq \"{inGroupName}\" and groups.display eq \"Sales\"")}"));
        Assert.Equal(0, noMatch["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task Refuses_a_malformed_filter_on_groups_and_matches_nobody_on_an_unknown_sub_attribute()
    {
        var directory = await CreateAsync(App);
        var userId = Id(await directory.CreateUserAsync(UniqueName()));
        await directory.CreateGroupAsync("Finance", userId);
        await AssertScimErrorAsync(await directory.GetAsync($"/Users?filter={Uri.EscapeDataString("groups[display eq \"Finance\"")}"),
            HttpStatusCode.BadRequest, "invalidFilter");
        var unknown = await ReadAsync(await directory.GetAsync($"/Users?filter={Uri.EscapeDataString("groups.color eq \"Finance\"")}"));
        Assert.Equal(0, unknown["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task Ignores_groups_in_a_PUT_body_and_refuses_a_PATCH_of_groups()
    {
        var directory = await CreateAsync(App);
        var userName = UniqueName();
        var userId = Id(await directory.CreateUserAsync(userName));
        var group = Id(await directory.CreateGroupAsync("Engineering"));

        var put = await directory.PutAsync($"/Users/{userId}", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}","active":true,"groups":[{"value":"{{group}}"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Empty((await ReadAsync(put))["groups"]!.AsArray());

        await AssertScimErrorAsync(await directory.PatchAsync($"/Users/{userId}", $$"""[{"op":"Add","path":"groups","value":[{"value":"{{group}}"}]}]"""),
            HttpStatusCode.BadRequest, "mutability");
        Assert.Empty((await ReadAsync(await directory.GetAsync($"/Users/{userId}")))["groups"]!.AsArray());
        Assert.Empty(await MemberDisplaysAsync(directory, group));
    }

    [Fact]
    public async Task Describes_groups_as_read_only_in_Schemas()
    {
        var directory = await CreateAsync(App);
        var schema = await ReadAsync(await directory.GetAsync("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"));
        var groups = schema["attributes"]!.AsArray().Single(a => a!["name"]!.GetValue<string>() == "groups")!;
        Assert.Equal("readOnly", groups["mutability"]!.GetValue<string>());
        Assert.Equal("default", groups["returned"]!.GetValue<string>());
        Assert.True(groups["multiValued"]!.GetValue<bool>());
        Assert.Equal(["value", "$ref", "display", "type"], groups["subAttributes"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()));
        Assert.All(groups["subAttributes"]!.AsArray(), a => Assert.Equal("readOnly", a!["mutability"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Shows_a_user_rename_in_the_member_display_of_each_of_its_groups()
    {
        var directory = await CreateAsync(App);
        var userId = Id(await directory.CreateUserAsync(UniqueName("before")));
        var otherName = UniqueName("other");
        var other = Id(await directory.CreateUserAsync(otherName));
        var groups = new[]
        {
            Id(await directory.CreateGroupAsync("One", userId, other)),
            Id(await directory.CreateGroupAsync("Two", userId)),
            Id(await directory.CreateGroupAsync("Three", userId)),
        };

        var putName = UniqueName("put");
        Assert.Equal(HttpStatusCode.OK, (await directory.PutAsync($"/Users/{userId}", UserBody(putName))).StatusCode);
        foreach (var group in groups)
        {
            Assert.Equal(putName, (await MemberDisplaysAsync(directory, group))[userId]);
            Assert.Equal(putName, (await ManagementMemberUserNamesAsync(directory, group))[userId]);
        }
        Assert.Equal(otherName, (await MemberDisplaysAsync(directory, groups[0]))[other]);

        var patchName = UniqueName("patch");
        Assert.Equal(HttpStatusCode.OK,
            (await directory.PatchAsync($"/Users/{userId}", $$"""[{"op":"Replace","path":"userName","value":"{{patchName}}"}]""")).StatusCode);
        foreach (var group in groups)
        {
            Assert.Equal(patchName, (await MemberDisplaysAsync(directory, group))[userId]);
            Assert.Equal(patchName, (await ManagementMemberUserNamesAsync(directory, group))[userId]);
        }
    }

    [Fact]
    public async Task Keeps_the_old_member_display_when_a_rename_is_refused()
    {
        var directory = await CreateAsync(App);
        var userName = UniqueName("keep");
        var userId = Id(await directory.CreateUserAsync(userName));
        var taken = UniqueName("taken");
        await directory.CreateUserAsync(taken);
        var group = Id(await directory.CreateGroupAsync("One", userId));

        await AssertScimErrorAsync(await directory.PutAsync($"/Users/{userId}", UserBody(taken)), HttpStatusCode.Conflict, "uniqueness");

        Assert.Equal(userName, (await MemberDisplaysAsync(directory, group))[userId]);
        Assert.Equal(userName, (await ManagementMemberUserNamesAsync(directory, group))[userId]);
    }

    [Fact]
    public async Task Shows_a_nested_group_rename_in_the_member_display_of_its_parent()
    {
        var directory = await CreateAsync(App);
        var child = Id(await directory.CreateGroupAsync("Child"));
        var parent = Id(await directory.CreateGroupAsync("Parent", child));

        Assert.Equal(HttpStatusCode.NoContent,
            (await directory.PatchAsync($"/Groups/{child}", """[{"op":"Replace","path":"displayName","value":"Renamed child"}]""")).StatusCode);

        Assert.Equal("Renamed child", (await MemberDisplaysAsync(directory, parent))[child]);
    }

    [Fact]
    public async Task Keeps_member_displays_on_the_last_name_when_renames_and_member_adds_interleave()
    {
        var directory = await CreateAsync(App);
        var userId = Id(await directory.CreateUserAsync(UniqueName("racer")));
        var groups = new List<string>();
        for (var i = 0; i < 6; i++) groups.Add(Id(await directory.CreateGroupAsync($"Race {i}")));

        var names = Enumerable.Range(0, 4).Select(i => UniqueName($"name{i}")).ToList();
        var adds = groups.Select(g => directory.PatchAsync($"/Groups/{g}", $$"""[{"op":"Add","path":"members","value":[{"value":"{{userId}}"}]}]"""));
        var renames = Task.Run(async () =>
        {
            foreach (var name in names)
                Assert.Equal(HttpStatusCode.OK,
                    (await directory.PatchAsync($"/Users/{userId}", $$"""[{"op":"Replace","path":"userName","value":"{{name}}"}]""")).StatusCode);
        });
        var added = await Task.WhenAll(adds);
        await renames;
        Assert.All(added, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));

        foreach (var group in groups)
            Assert.Equal(names[^1], (await MemberDisplaysAsync(directory, group))[userId]);
        Assert.Equal(groups.Order(StringComparer.Ordinal), GroupIds(await ReadAsync(await directory.GetAsync($"/Users/{userId}"))));
    }
}
