using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.Scim;

public class ScimUserEndpointsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private static string UniqueName(string prefix = "user") => $"{prefix}.{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task Runs_the_Entra_ID_user_provisioning_sequence()
    {
        var directory = await CreateAsync(App, "entra");
        var userName = "Test_User_" + Guid.NewGuid();

        // Entra ID first asks whether the user exists, then creates it.
        var lookup = await ReadAsync(await directory.GetAsync($"/Users?filter=userName eq \"{userName}\""));
        Assert.Equal(0, lookup["totalResults"]!.GetValue<int>());
        var create = await directory.PostAsync("/Users", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
             "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"{{userName}}","active":true,
             "emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@testuser.com"}],
             "meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},"roles":[]}
            """);
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal("application/scim+json", create.Content.Headers.ContentType?.MediaType);
        var user = await ReadAsync(create);
        var id = user["id"]!.GetValue<string>();
        Assert.Equal($"{directory.ScimBaseUrl}/Users/{id}", create.Headers.Location?.ToString());
        Assert.Equal(user["meta"]!["version"]!.GetValue<string>(), create.Headers.ETag?.ToString());
        Assert.Equal($"{directory.ScimBaseUrl}/Users/{id}", user["meta"]!["location"]!.GetValue<string>());

        // The lookup is case-insensitive on userName.
        var found = await ReadAsync(await directory.GetAsync($"/Users?filter=userName eq \"{userName.ToUpperInvariant()}\""));
        Assert.Equal(1, found["totalResults"]!.GetValue<int>());
        Assert.Equal(id, found["Resources"]![0]!["id"]!.GetValue<string>());
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:ListResponse", found["schemas"]![0]!.GetValue<string>());

        // Update multi-valued and single-valued attributes, capitalised ops.
        var patched = await directory.PatchAsync($"/Users/{id}", """
            [{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
             {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]
            """);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var afterPatch = await ReadAsync(patched);
        Assert.Equal("updatedEmail@microsoft.com", afterPatch["emails"]![0]!["value"]!.GetValue<string>());
        Assert.Equal("updatedFamilyName", afterPatch["name"]!["familyName"]!.GetValue<string>());
        Assert.NotEqual(user["meta"]!["version"]!.GetValue<string>(), afterPatch["meta"]!["version"]!.GetValue<string>());

        var renamed = userName + "-renamed";
        Assert.Equal(HttpStatusCode.OK, (await directory.PatchAsync($"/Users/{id}", $$"""[{"op":"Replace","path":"userName","value":"{{renamed}}"}]""")).StatusCode);
        Assert.Equal(1, (await ReadAsync(await directory.GetAsync($"/Users?filter=userName eq \"{renamed}\"")))["totalResults"]!.GetValue<int>());
        Assert.Equal(0, (await ReadAsync(await directory.GetAsync($"/Users?filter=userName eq \"{userName}\"")))["totalResults"]!.GetValue<int>());

        // Disable: Entra ID sends the boolean as a string unless its compatibility flag is set.
        var disabled = await ReadAsync(await directory.PatchAsync($"/Users/{id}", """[{"op":"Replace","path":"active","value":"False"}]"""));
        Assert.False(disabled["active"]!.GetValue<bool>());
        Assert.Equal("suspended", (await directory.DirectoryUserAsync(id))["state"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await directory.DeleteAsync($"/Users/{id}")).StatusCode);
        await AssertScimErrorAsync(await directory.GetAsync($"/Users/{id}"), HttpStatusCode.NotFound, null);
        Assert.Equal(0, (await ReadAsync(await directory.GetAsync($"/Users?filter=userName eq \"{renamed}\"")))["totalResults"]!.GetValue<int>());
        var view = await directory.DirectoryUserAsync(id);
        Assert.Equal("deprovisioned", view["state"]!.GetValue<string>());

        var events = await directory.EventsAsync(App);
        var types = events.Where(e => e["data"]!["id"]?.GetValue<string>() == id).Select(e => e["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["dsync.user.created", "dsync.user.updated", "dsync.user.updated", "dsync.user.updated", "dsync.user.deprovisioned", "dsync.user.deprovisioned"], types);
        var reasons = events.Where(e => e["type"]!.GetValue<string>() == "dsync.user.deprovisioned").Select(e => e["data"]!["reason"]!.GetValue<string>());
        Assert.Equal(["deactivated", "deleted"], reasons);
        Assert.All(events, e => Assert.Equal(directory.DirectoryId, e["directoryId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Runs_the_Okta_user_provisioning_sequence()
    {
        var directory = await CreateAsync(App, "okta");
        var userName = UniqueName("okta");

        var empty = await ReadAsync(await directory.GetAsync($"/Users?filter=userName%20eq%20%22{Uri.EscapeDataString(userName)}%22&startIndex=1&count=100"));
        Assert.Equal(0, empty["totalResults"]!.GetValue<int>());
        Assert.Empty(empty["Resources"]!.AsArray());

        var created = await ReadAsync(await directory.PostAsync("/Users", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}",
             "name":{"givenName":"Test","familyName":"User"},"emails":[{"primary":true,"value":"{{userName}}","type":"work"}],
             "displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}
            """));
        var id = created["id"]!.GetValue<string>();
        Assert.Null(created["password"]);
        Assert.Equal("en-US", created["locale"]!.GetValue<string>());

        var read = await ReadAsync(await directory.GetAsync($"/Users/{id}"));
        Assert.Equal(userName, read["userName"]!.GetValue<string>());

        // Okta updates profiles with a full PUT.
        var replaced = await directory.PutAsync($"/Users/{id}", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"{{id}}","userName":"{{userName}}",
             "name":{"givenName":"Another","familyName":"User"},"emails":[{"primary":true,"value":"{{userName}}","type":"work"}],
             "displayName":"Another User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"active":true,"meta":{"resourceType":"User"} }
            """);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal("Another", (await ReadAsync(replaced))["name"]!["givenName"]!.GetValue<string>());

        // Deactivate and reactivate with path-less replaces.
        var deactivated = await ReadAsync(await directory.PatchAsync($"/Users/{id}", """[{"op":"replace","value":{"active":false}}]"""));
        Assert.False(deactivated["active"]!.GetValue<bool>());
        var reactivated = await ReadAsync(await directory.PatchAsync($"/Users/{id}", """[{"op":"replace","value":{"active":true}}]"""));
        Assert.True(reactivated["active"]!.GetValue<bool>());
        Assert.Equal("active", (await directory.DirectoryUserAsync(id))["state"]!.GetValue<string>());

        // Password sync is accepted and never stored.
        Assert.Equal(HttpStatusCode.OK, (await directory.PatchAsync($"/Users/{id}", """[{"op":"replace","value":{"password":"t1meMa$heen"}}]""")).StatusCode);

        var types = (await directory.EventsAsync(App)).Select(e => e["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["dsync.user.created", "dsync.user.updated", "dsync.user.updated", "dsync.user.deprovisioned", "dsync.user.updated", "dsync.user.reactivated"], types);
    }

    [Fact]
    public async Task Keeps_and_returns_an_extension_attribute_the_IdP_declares()
    {
        var directory = await CreateAsync(App);
        const string urn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
        var response = await directory.PostAsync("/Users", $$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","{{urn}}"],"userName":"{{UniqueName()}}","{{urn}}":{"acmeRole":"admin"} }
            """);
        var id = (await ReadAsync(response))["id"]!.GetValue<string>();

        var read = await ReadAsync(await directory.GetAsync($"/Users/{id}"));

        Assert.Equal("admin", read[urn]!["acmeRole"]!.GetValue<string>());
        Assert.Contains(urn, read["schemas"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task Refuses_a_second_user_with_the_same_userName_in_any_case()
    {
        var directory = await CreateAsync(App);
        var userName = UniqueName();
        await directory.CreateUserAsync(userName);

        var duplicate = await directory.PostAsync("/Users", $$"""{"userName":"{{userName.ToUpperInvariant()}}"}""");

        await AssertScimErrorAsync(duplicate, HttpStatusCode.Conflict, "uniqueness");
    }

    [Fact]
    public async Task Refuses_a_second_user_with_the_same_externalId()
    {
        var directory = await CreateAsync(App);
        await directory.CreateUserAsync(UniqueName(), externalId: "ext-1");

        var duplicate = await directory.PostAsync("/Users", $$"""{"userName":"{{UniqueName()}}","externalId":"ext-1"}""");

        await AssertScimErrorAsync(duplicate, HttpStatusCode.Conflict, "uniqueness");
        Assert.Contains("externalId", (await ReadAsync(duplicate))["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Answers_twenty_parallel_creates_of_one_userName_with_one_201_and_409s()
    {
        var directory = await CreateAsync(App);
        var userName = UniqueName("race");

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            directory.PostAsync("/Users", $$"""{"userName":"{{userName}}","externalId":"{{Guid.NewGuid()}}"}""")));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(1, (await ReadAsync(await directory.GetAsync("/Users")))["totalResults"]!.GetValue<int>());
    }

    public static TheoryData<string, string, string, HttpStatusCode, string?> BadRequests => new()
    {
        { "malformed JSON", "POST", "{\"userName\":", HttpStatusCode.BadRequest, "invalidSyntax" },
        { "no userName", "POST", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"name":{"givenName":"x"}}""", HttpStatusCode.BadRequest, "invalidValue" },
        { "a non-boolean active", "POST", """{"userName":"a@b.c","active":"sometimes"}""", HttpStatusCode.BadRequest, "invalidValue" },
        { "a userName longer than 256", "POST", $$"""{"userName":"{{new string('a', 300)}}"}""", HttpStatusCode.BadRequest, "invalidValue" },
        { "a PATCH without PatchOp schema", "PATCH", """{"Operations":[{"op":"replace","path":"active","value":false}]}""", HttpStatusCode.BadRequest, "invalidSyntax" },
        { "a PATCH of id", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"id","value":"x"}]}""", HttpStatusCode.BadRequest, "mutability" },
        { "a PATCH of meta", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"meta.created","value":"x"}]}""", HttpStatusCode.BadRequest, "mutability" },
        { "a PATCH with a bad path", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}""", HttpStatusCode.BadRequest, "invalidPath" },
        { "a PATCH of an unknown attribute", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"shoeSize","value":"x"}]}""", HttpStatusCode.BadRequest, "invalidPath" },
        { "a PATCH without value", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title"}]}""", HttpStatusCode.BadRequest, "invalidValue" },
        { "a PATCH remove without path", "PATCH", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove"}]}""", HttpStatusCode.BadRequest, "noTarget" },
        { "a PUT that drops userName", "PUT", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"displayName":"x"}""", HttpStatusCode.BadRequest, "invalidValue" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Answers_bad_input_with_a_SCIM_error_and_changes_nothing(string name, string method, string body, HttpStatusCode status, string? scimType)
    {
        var directory = await CreateAsync(App);
        var user = await directory.CreateUserAsync(UniqueName());
        var id = user["id"]!.GetValue<string>();

        var response = await directory.Scim.SendAsync(new HttpRequestMessage(new HttpMethod(method), method == "POST" ? $"{directory.Base}/Users" : $"{directory.Base}/Users/{id}")
        {
            Content = Body(body),
        });

        await AssertScimErrorAsync(response, status, scimType);
        var after = await ReadAsync(await directory.GetAsync($"/Users/{id}"));
        Assert.True(user["meta"]!["version"]!.ToJsonString() == after["meta"]!["version"]!.ToJsonString(), name);
        Assert.Equal(1, (await ReadAsync(await directory.GetAsync("/Users")))["totalResults"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("an unbalanced bracket", "emails[type eq \"work\"")]
    [InlineData("an unknown operator", "userName like \"x\"")]
    [InlineData("an unquoted value", "userName eq bob")]
    public async Task Answers_a_malformed_filter_with_invalidFilter(string name, string filter)
    {
        var directory = await CreateAsync(App);

        var response = await directory.GetAsync("/Users?filter=" + Uri.EscapeDataString(filter));

        await AssertScimErrorAsync(response, HttpStatusCode.BadRequest, "invalidFilter");
        Assert.NotNull(name);
    }

    [Fact]
    public async Task Answers_an_unknown_user_with_404()
    {
        var directory = await CreateAsync(App);

        await AssertScimErrorAsync(await directory.GetAsync("/Users/usr_nosuchuser"), HttpStatusCode.NotFound, null);
        await AssertScimErrorAsync(await directory.PatchAsync("/Users/usr_nosuchuser", """[{"op":"replace","path":"active","value":false}]"""), HttpStatusCode.NotFound, null);
        await AssertScimErrorAsync(await directory.DeleteAsync("/Users/usr_nosuchuser"), HttpStatusCode.NotFound, null);
    }

    [Fact]
    public async Task Answers_an_oversized_body_with_413()
    {
        var directory = await CreateAsync(App);
        var huge = $$"""{"userName":"{{UniqueName()}}","displayName":"{{new string('x', 600 * 1024)}}"}""";

        await AssertScimErrorAsync(await directory.PostAsync("/Users", huge), HttpStatusCode.RequestEntityTooLarge, null);
        var large = $$"""{"userName":"{{UniqueName()}}","displayName":"{{new string('x', 100 * 1024)}}"}""";
        await AssertScimErrorAsync(await directory.PostAsync("/Users", large), HttpStatusCode.RequestEntityTooLarge, null);
        Assert.Equal(0, (await ReadAsync(await directory.GetAsync("/Users")))["totalResults"]!.GetValue<int>());
    }

    [Fact]
    public async Task Answers_a_stale_If_Match_with_412_and_a_current_one_with_200()
    {
        var directory = await CreateAsync(App);
        var user = await directory.CreateUserAsync(UniqueName());
        var id = user["id"]!.GetValue<string>();
        var version = user["meta"]!["version"]!.GetValue<string>();
        await directory.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"title","value":"one"}]""");

        var stale = new HttpRequestMessage(HttpMethod.Patch, $"{directory.Base}/Users/{id}")
        {
            Content = Body("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"two"}]}"""),
        };
        stale.Headers.IfMatch.Add(EntityTagHeaderValue.Parse(version));
        await AssertScimErrorAsync(await directory.Scim.SendAsync(stale), HttpStatusCode.PreconditionFailed, null);

        var current = (await directory.GetAsync($"/Users/{id}")).Headers.ETag!;
        var fresh = new HttpRequestMessage(HttpMethod.Patch, $"{directory.Base}/Users/{id}")
        {
            Content = Body("""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"two"}]}"""),
        };
        fresh.Headers.IfMatch.Add(current);
        Assert.Equal(HttpStatusCode.OK, (await directory.Scim.SendAsync(fresh)).StatusCode);
    }

    [Fact]
    public async Task Answers_If_None_Match_with_the_current_version_with_304()
    {
        var directory = await CreateAsync(App);
        var id = (await directory.CreateUserAsync(UniqueName()))["id"]!.GetValue<string>();
        var etag = (await directory.GetAsync($"/Users/{id}")).Headers.ETag!;

        var request = new HttpRequestMessage(HttpMethod.Get, $"{directory.Base}/Users/{id}");
        request.Headers.IfNoneMatch.Add(etag);

        Assert.Equal(HttpStatusCode.NotModified, (await directory.Scim.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Pages_users_with_startIndex_and_count()
    {
        var directory = await CreateAsync(App);
        for (var i = 0; i < 5; i++) await directory.CreateUserAsync(UniqueName("page"));

        var page = await ReadAsync(await directory.GetAsync("/Users?startIndex=2&count=2"));

        Assert.Equal(5, page["totalResults"]!.GetValue<int>());
        Assert.Equal(2, page["startIndex"]!.GetValue<int>());
        Assert.Equal(2, page["itemsPerPage"]!.GetValue<int>());
        Assert.Equal(2, page["Resources"]!.AsArray().Count);
    }

    [Fact]
    public async Task Filters_users_by_the_full_grammar_and_projects_attributes()
    {
        var directory = await CreateAsync(App);
        var alice = await directory.CreateUserAsync(UniqueName("alice"), extra: ""","title":"Engineer","userType":"Employee" """);
        await directory.CreateUserAsync(UniqueName("bob"), extra: ""","title":"Sales","userType":"Contractor" """);

        var filter = Uri.EscapeDataString("userType eq \"Employee\" and (title sw \"eng\" or emails[type eq \"home\"])");
        var result = await ReadAsync(await directory.GetAsync($"/Users?filter={filter}&attributes=userName"));

        Assert.Equal(1, result["totalResults"]!.GetValue<int>());
        var only = result["Resources"]![0]!.AsObject();
        Assert.Equal(alice["id"]!.GetValue<string>(), only["id"]!.GetValue<string>());
        Assert.Equal(["schemas", "id", "userName"], only.Select(p => p.Key));
    }

    [Fact]
    public async Task Accepts_application_json_and_refuses_other_media_types()
    {
        var directory = await CreateAsync(App);

        var json = await directory.Scim.PostAsync($"{directory.Base}/Users", Body($$"""{"userName":"{{UniqueName()}}"}""", "application/json"));
        Assert.Equal(HttpStatusCode.Created, json.StatusCode);

        var text = await directory.Scim.PostAsync($"{directory.Base}/Users", Body($$"""{"userName":"{{UniqueName()}}"}""", "text/plain"));
        await AssertScimErrorAsync(text, HttpStatusCode.UnsupportedMediaType, null);
    }

    private static async Task<JsonArray> LookupAsync(ScimTestDirectory directory, string userName) =>
        (await ReadAsync(await directory.GetAsync("/Users?filter=" + Uri.EscapeDataString($"userName eq \"{userName}\""))))["Resources"]!.AsArray();

    [Fact]
    public async Task Answers_a_userName_lookup_with_the_user_as_last_written_through_renames_groups_and_deletion()
    {
        var directory = await CreateAsync(App);
        var userName = UniqueName("lookup");
        var id = (await directory.CreateUserAsync(userName))["id"]!.GetValue<string>();
        var store = App.Get<Sso.Functions.DirectorySync.DirectoryUserStore>();
        var directoryId = new Sso.Functions.DirectorySync.DirectoryId(directory.DirectoryId);
        Assert.False((await store.FindUserByUserNameAsync(directoryId, userName, default))!.InGroups);

        Assert.Equal(HttpStatusCode.OK, (await directory.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"title","value":"Engineer"}]""")).StatusCode);
        var found = Assert.Single(await LookupAsync(directory, userName.ToUpperInvariant()))!;
        Assert.Equal(id, found["id"]!.GetValue<string>());
        Assert.Equal("Engineer", found["title"]!.GetValue<string>());
        Assert.Equal((await ReadAsync(await directory.GetAsync($"/Users/{id}")))["meta"]!.ToJsonString(), found["meta"]!.ToJsonString());
        Assert.Empty(found["groups"]!.AsArray());

        var renamed = UniqueName("renamed");
        Assert.Equal(HttpStatusCode.OK, (await directory.PatchAsync($"/Users/{id}", $$"""[{"op":"replace","path":"userName","value":"{{renamed}}"}]""")).StatusCode);
        Assert.Empty(await LookupAsync(directory, userName));
        Assert.Equal(renamed, Assert.Single(await LookupAsync(directory, renamed))!["userName"]!.GetValue<string>());

        var groupId = (await directory.CreateGroupAsync("Lookup " + Guid.NewGuid().ToString("N")[..6], id))["id"]!.GetValue<string>();
        Assert.True((await store.FindUserByUserNameAsync(directoryId, renamed, default))!.InGroups);
        Assert.Equal(groupId, Assert.Single(Assert.Single(await LookupAsync(directory, renamed))!["groups"]!.AsArray())!["value"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await directory.DeleteAsync($"/Users/{id}")).StatusCode);
        Assert.Empty(await LookupAsync(directory, renamed));
        // The userName is free again, for a new user in no group.
        var again = (await directory.CreateUserAsync(renamed))["id"]!.GetValue<string>();
        var newcomer = Assert.Single(await LookupAsync(directory, renamed))!;
        Assert.Equal(again, newcomer["id"]!.GetValue<string>());
        Assert.Empty(newcomer["groups"]!.AsArray());
    }

    [Fact]
    public async Task Refuses_a_rename_onto_a_taken_userName_and_keeps_both_lookups()
    {
        var directory = await CreateAsync(App);
        var first = UniqueName("first");
        var second = UniqueName("second");
        await directory.CreateUserAsync(first);
        var secondId = (await directory.CreateUserAsync(second))["id"]!.GetValue<string>();

        var clash = await directory.PatchAsync($"/Users/{secondId}", $$"""[{"op":"replace","path":"userName","value":"{{first.ToUpperInvariant()}}"}]""");

        await AssertScimErrorAsync(clash, HttpStatusCode.Conflict, "uniqueness");
        Assert.Equal(first, Assert.Single(await LookupAsync(directory, first))!["userName"]!.GetValue<string>());
        Assert.Equal(secondId, Assert.Single(await LookupAsync(directory, second))!["id"]!.GetValue<string>());
    }
}
