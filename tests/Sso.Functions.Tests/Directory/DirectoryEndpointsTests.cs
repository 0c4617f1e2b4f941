using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Scim;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.DirectorySync;

public class DirectoryEndpointsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private static string UniqueName(string prefix = "user") => $"{prefix}.{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task Creates_a_directory_with_an_absolute_SCIM_base_URL_and_a_token_shown_once()
    {
        var directory = await CreateAsync(App, "okta");

        Assert.StartsWith("dir_", directory.DirectoryId);
        Assert.Equal($"http://localhost/scim/v2/{directory.DirectoryId}", directory.ScimBaseUrl);
        Assert.StartsWith("scim_", directory.Token);

        var tokens = await directory.Admin.GetStringAsync($"/api/v1/tenants/{directory.TenantId}/directories/{directory.DirectoryId}/tokens");
        Assert.Contains(directory.TokenId, tokens);
        Assert.DoesNotContain(directory.Token, tokens);
        Assert.DoesNotContain("hash", tokens, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Records_when_a_token_was_last_used()
    {
        var directory = await CreateAsync(App);
        await directory.GetAsync("/Users");

        var tokens = (await directory.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{directory.TenantId}/directories/{directory.DirectoryId}/tokens"))!;

        Assert.NotNull(tokens["data"]![0]!["lastUsed"]);
    }

    [Theory]
    [InlineData("no name", """{"provider":"okta"}""", "validation-failed")]
    [InlineData("an unknown provider", """{"name":"x","provider":"ldap"}""", "validation-failed")]
    [InlineData("an unknown field", """{"name":"x","provider":"okta","color":"red"}""", "unknown-field")]
    public async Task Refuses_a_bad_directory_with_a_problem(string name, string body, string code)
    {
        var directory = await CreateAsync(App);

        var response = await directory.Admin.PostAsync($"/api/v1/tenants/{directory.TenantId}/directories", Body(body, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.EndsWith("/" + code, (await ReadAsync(response))["type"]!.GetValue<string>());
        Assert.NotNull(name);
    }

    [Fact]
    public async Task Keeps_a_directory_out_of_reach_of_another_tenant()
    {
        var a = await CreateAsync(App);
        var b = await CreateAsync(App);

        var listed = await a.Admin.GetAsync($"/api/v1/tenants/{b.TenantId}/directories/{a.DirectoryId}/tokens");
        var revoked = await a.Admin.DeleteAsync($"/api/v1/tenants/{b.TenantId}/directories/{a.DirectoryId}/tokens/{a.TokenId}");

        Assert.Equal(HttpStatusCode.NotFound, listed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("/Users")).StatusCode);
    }

    [Fact]
    public async Task Requires_the_admin_key()
    {
        var directory = await CreateAsync(App);
        var anonymous = App.CreateAnonymousClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/v1/directories/{directory.DirectoryId}/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/events")).StatusCode);
        // A SCIM token is not an admin key.
        var scimAsAdmin = App.CreateAnonymousClient();
        scimAsAdmin.DefaultRequestHeaders.Authorization = new("Bearer", directory.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await scimAsAdmin.GetAsync($"/api/v1/directories/{directory.DirectoryId}/users")).StatusCode);
    }

    [Fact]
    public async Task Shows_synced_users_with_their_groups_state_and_resolved_role()
    {
        var directory = await CreateAsync(App, "entra", new
        {
            roles = new[] { "viewer", "editor", "admin" },
            defaultRole = "viewer",
            groupRoleMappings = new[] { new { group = "Deepnote Admins", role = "admin" }, new { group = "Editors", role = "editor" } },
            roleAttribute = "urn:ietf:params:scim:schemas:extension:acme:2.0:User:role",
        });
        var admin = (await directory.CreateUserAsync(UniqueName("admin")))["id"]!.GetValue<string>();
        var editor = (await directory.CreateUserAsync(UniqueName("editor")))["id"]!.GetValue<string>();
        var plain = (await directory.CreateUserAsync(UniqueName("plain")))["id"]!.GetValue<string>();
        var byAttribute = (await directory.CreateUserAsync(UniqueName("attr"), extra: """
            ,"urn:ietf:params:scim:schemas:extension:acme:2.0:User":{"role":"editor"}
            """))["id"]!.GetValue<string>();
        var admins = (await directory.CreateGroupAsync("Deepnote Admins", admin))["id"]!.GetValue<string>();
        await directory.CreateGroupAsync("Editors", admin, editor);
        await directory.PatchAsync($"/Users/{plain}", """[{"op":"replace","path":"active","value":false}]""");

        var adminView = await directory.DirectoryUserAsync(admin);
        Assert.Equal("admin", adminView["role"]!.GetValue<string>());
        Assert.Equal(2, adminView["groups"]!.AsArray().Count);
        Assert.Contains(adminView["groups"]!.AsArray(), g => g!["id"]!.GetValue<string>() == admins && g["displayName"]!.GetValue<string>() == "Deepnote Admins");
        Assert.Equal("editor", (await directory.DirectoryUserAsync(editor))["role"]!.GetValue<string>());
        Assert.Equal("editor", (await directory.DirectoryUserAsync(byAttribute))["role"]!.GetValue<string>());
        var plainView = await directory.DirectoryUserAsync(plain);
        Assert.Equal("viewer", plainView["role"]!.GetValue<string>());
        Assert.Equal("suspended", plainView["state"]!.GetValue<string>());
        Assert.False(plainView["active"]!.GetValue<bool>());
        Assert.Equal("Given", adminView["givenName"]!.GetValue<string>());
        Assert.EndsWith("@example.com", adminView["email"]!.GetValue<string>());

        var groups = (await directory.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directory.DirectoryId}/groups"))!;
        var editors = groups["data"]!.AsArray().Single(g => g!["displayName"]!.GetValue<string>() == "Editors")!;
        Assert.Equal(2, editors["members"]!.AsArray().Count);
        Assert.All(editors["members"]!.AsArray(), m => Assert.NotNull(m!["userName"]));
    }

    [Fact]
    public async Task Pages_the_directory_view_with_a_cursor()
    {
        var directory = await CreateAsync(App);
        for (var i = 0; i < 5; i++) await directory.CreateUserAsync(UniqueName("paged"));

        var seen = new HashSet<string>();
        string? cursor = null;
        do
        {
            var page = (await directory.Admin.GetFromJsonAsync<JsonObject>(
                $"/api/v1/directories/{directory.DirectoryId}/users?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))))!;
            Assert.True(page["data"]!.AsArray().Count <= 2);
            foreach (var user in page["data"]!.AsArray()) seen.Add(user!["id"]!.GetValue<string>());
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);

        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public async Task Answers_404_for_an_unknown_directory()
    {
        var directory = await CreateAsync(App);

        var response = await directory.Admin.GetAsync("/api/v1/directories/dir_00000000000000000000000000/users");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

public class RoleChangeEventTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    [Fact]
    public async Task Emits_role_changed_when_membership_or_the_role_attribute_changes_the_role()
    {
        var directory = await ScimTestDirectory.CreateAsync(App, "okta", new
        {
            roles = new[] { "member", "admin" },
            defaultRole = "member",
            groupRoleMappings = new[] { new { group = "Admins", role = "admin" } },
            roleAttribute = "urn:ietf:params:scim:schemas:extension:acme:2.0:User:role",
        });
        var user = (await directory.CreateUserAsync($"u.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>();
        var other = (await directory.CreateUserAsync($"o.{Guid.NewGuid():N}@example.com"))["id"]!.GetValue<string>();
        var admins = (await directory.CreateGroupAsync("Admins"))["id"]!.GetValue<string>();
        var plain = (await directory.CreateGroupAsync("Plain"))["id"]!.GetValue<string>();

        await directory.PatchAsync($"/Groups/{admins}", $$"""[{"op":"add","path":"members","value":[{"value":"{{user}}"}]}]""");
        await directory.PatchAsync($"/Groups/{plain}", $$"""[{"op":"add","path":"members","value":[{"value":"{{user}}"}]}]""");
        await directory.PatchAsync($"/Groups/{admins}", $$"""[{"op":"remove","path":"members[value eq \"{{user}}\"]"}]""");
        await directory.PatchAsync($"/Users/{other}", """[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:acme:2.0:User:role","value":"Admin"}]""");

        var changes = (await directory.EventsAsync(App)).Where(e => e["type"]!.GetValue<string>() == "dsync.user.role_changed")
            .Select(e => $"{e["data"]!["user"]!["id"]}:{e["data"]!["previousRole"]}->{e["data"]!["role"]}").ToList();
        Assert.Equal([$"{user}:member->admin", $"{user}:admin->member", $"{other}:member->admin"], changes);
        Assert.Equal("admin", (await directory.DirectoryUserAsync(other))["role"]!.GetValue<string>());
    }
}

public class SignInStateTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    [Fact]
    public async Task Tells_sign_in_whether_a_directory_user_is_active_suspended_or_deprovisioned()
    {
        var directory = await ScimTestDirectory.CreateAsync(App, "entra");
        var other = await ScimTestDirectory.CreateAsync(App, "okta");
        var store = App.Get<DirectoryUserStore>();
        var tenant = new TenantId(directory.TenantId);
        async Task<string> StateAsync(TenantId t, string email) =>
            (await store.FindSignInCandidatesAsync(t, email, default)).Select(u => DirectoryViews.StateName(u.State)).SingleOrDefault() ?? "none";
        var userName = $"upn.{Guid.NewGuid():N}@corp.test";
        var email = $"Mail.{Guid.NewGuid():N}@Example.com";
        var created = await ScimTestDirectory.ReadAsync(await directory.PostAsync("/Users", $$"""
            {"userName":"{{userName}}","emails":[{"value":"{{email}}","primary":true,"type":"work"}]}
            """));
        var id = created["id"]!.GetValue<string>();

        Assert.Equal("active", await StateAsync(tenant, userName.ToUpperInvariant()));
        Assert.Equal("active", await StateAsync(tenant, email.ToLowerInvariant()));
        Assert.Equal("none", await StateAsync(new TenantId(other.TenantId), email));
        Assert.Equal("none", await StateAsync(tenant, "nobody@example.com"));

        await directory.PatchAsync($"/Users/{id}", """[{"op":"replace","path":"active","value":false}]""");
        Assert.Equal("suspended", await StateAsync(tenant, email));

        await directory.DeleteAsync($"/Users/{id}");
        Assert.Equal("deprovisioned", await StateAsync(tenant, userName));
    }
}
