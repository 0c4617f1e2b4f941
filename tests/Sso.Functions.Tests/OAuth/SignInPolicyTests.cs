using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

public class SignInPolicyTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private sealed record Directory(string Id, HttpClient Scim);

    private static async Task<Directory> CreateDirectoryAsync(SignInFlow flow)
    {
        var response = await flow.Admin.PostAsJsonAsync($"/api/v1/tenants/{flow.TenantId}/directories", new { name = "Corp", provider = "okta" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var directory = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var scim = flow.App.CreateAnonymousClient();
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", directory["token"]!.GetValue<string>());
        return new Directory(directory["id"]!.GetValue<string>(), scim);
    }

    private static async Task<string> ProvisionAsync(Directory directory, string userName, string email, bool active = true)
    {
        var response = await directory.Scim.PostAsync($"/scim/v2/{directory.Id}/Users", new StringContent($$"""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}","active":{{(active ? "true" : "false")}},
             "name":{"givenName":"Alice","familyName":"Archer"},"emails":[{"primary":true,"type":"work","value":"{{email}}"}]}
            """, Encoding.UTF8, "application/scim+json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    private static async Task<Dictionary<string, string>> CallbackAsync(SignInFlow flow, string state = "policy-state")
    {
        var (requestId, relayState) = await flow.StartAsync(state, null);
        return SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
    }

    private static async Task AssertRefusedAsync(SignInFlow flow, string reason)
    {
        var callback = await CallbackAsync(flow);
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal(reason, callback["error_description"]);
        Assert.Equal("policy-state", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task Without_JIT_refuses_a_user_the_directory_does_not_know()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        await CreateDirectoryAsync(flow);
        await AssertRefusedAsync(flow, "user_not_provisioned");
    }

    [Fact]
    public async Task Without_JIT_admits_an_active_directory_user_with_the_directory_role_and_groups()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject
        {
            ["groupRoleMappings"] = new JsonArray(new JsonObject { ["group"] = "Platform Admins", ["role"] = "admin" }),
        });
        var directory = await CreateDirectoryAsync(flow);
        var userId = await ProvisionAsync(directory, flow.Email.ToUpperInvariant(), flow.Email);
        var group = await directory.Scim.PostAsync($"/scim/v2/{directory.Id}/Groups", new StringContent(
            $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Platform Admins","members":[{"value":"{{userId}}"}]}""",
            Encoding.UTF8, "application/scim+json"));
        Assert.Equal(HttpStatusCode.Created, group.StatusCode);

        var callback = await CallbackAsync(flow);
        var tokens = (await (await flow.RedeemAsync(callback["code"], null)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(tokens["id_token"]);
        var idToken = new JsonWebToken(tokens["id_token"]!.GetValue<string>());
        Assert.Equal("admin", idToken.GetClaim("role").Value);
        // The directory's groups, not the assertion's ("engineering").
        Assert.Equal(["Platform Admins"], idToken.Claims.Where(c => c.Type == "groups").Select(c => c.Value));
    }

    [Fact]
    public async Task Matches_a_directory_user_by_primary_email_when_the_userName_differs()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var directory = await CreateDirectoryAsync(flow);
        await ProvisionAsync(directory, "alice.archer", flow.Email);
        Assert.True((await CallbackAsync(flow)).ContainsKey("code"));
    }

    [Fact]
    public async Task Refuses_a_suspended_user_even_with_JIT()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var directory = await CreateDirectoryAsync(flow);
        await ProvisionAsync(directory, flow.Email, flow.Email, active: false);
        await AssertRefusedAsync(flow, "user_suspended");
    }

    [Fact]
    public async Task Refuses_a_deprovisioned_user_even_with_JIT()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var directory = await CreateDirectoryAsync(flow);
        var userId = await ProvisionAsync(directory, flow.Email, flow.Email);
        Assert.Equal(HttpStatusCode.NoContent, (await directory.Scim.DeleteAsync($"/scim/v2/{directory.Id}/Users/{userId}")).StatusCode);
        await AssertRefusedAsync(flow, "user_deprovisioned");
    }

    [Fact]
    public async Task Finds_a_user_whose_email_is_its_userName_by_its_userName_row_and_once_deleted_by_the_sign_in_row_the_delete_wrote()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var directory = await CreateDirectoryAsync(flow);
        var userId = await ProvisionAsync(directory, flow.Email.ToUpperInvariant(), flow.Email);
        // The userName index row answers for the address: the create committed no sign-in row.
        Assert.Empty(await SignInRowsAsync(flow, directory));
        Assert.True((await CallbackAsync(flow)).ContainsKey("code"));

        Assert.Equal(HttpStatusCode.NoContent, (await directory.Scim.DeleteAsync($"/scim/v2/{directory.Id}/Users/{userId}")).StatusCode);
        Assert.Equal([$"signIn|{flow.Email.ToLowerInvariant()}|{userId}"], await SignInRowsAsync(flow, directory));
        await AssertRefusedAsync(flow, "user_deprovisioned");
    }

    [Fact]
    public async Task Ignores_a_sign_in_row_whose_user_no_longer_has_that_userName_or_email()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var directory = await CreateDirectoryAsync(flow);
        var userId = await ProvisionAsync(directory, "alice.archer", "alice.archer@elsewhere.example");
        // A row from before a live user's userName stopped having its own sign-in row, left by a rename.
        await DirectoryTable(flow).AddEntityAsync(new Azure.Data.Tables.TableEntity(directory.Id, $"signIn|{flow.Email.ToLowerInvariant()}|{userId}")
        {
            ["UserId"] = userId,
        });
        await AssertRefusedAsync(flow, "user_not_provisioned");
    }

    private static Azure.Data.Tables.TableClient DirectoryTable(SignInFlow flow) =>
        new(flow.App.Azurite.ConnectionString, flow.App.TablePrefix + "directory");

    private static async Task<List<string>> SignInRowsAsync(SignInFlow flow, Directory directory)
    {
        var rows = new List<string>();
        await foreach (var row in DirectoryTable(flow).QueryAsync<Azure.Data.Tables.TableEntity>(
                           $"PartitionKey eq '{directory.Id}' and RowKey ge 'signIn|' and RowKey lt 'signIn}}'", select: ["RowKey"]))
            rows.Add(row.RowKey);
        return rows;
    }

    [Fact]
    public async Task With_JIT_admits_anyone_the_IdP_vouches_for_with_roles_from_the_asserted_groups()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject
        {
            ["jitProvisioning"] = true,
            ["defaultRole"] = "member",
            ["roles"] = new JsonArray("member", "editor", "admin"),
            ["groupRoleMappings"] = new JsonArray(new JsonObject { ["group"] = "engineering", ["role"] = "editor" }),
        });
        var callback = await CallbackAsync(flow);
        var tokens = (await (await flow.RedeemAsync(callback["code"], null)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("editor", new JsonWebToken(tokens["id_token"]!.GetValue<string>()).GetClaim("role").Value);
    }

    [Fact]
    public async Task Refuses_an_email_whose_domain_another_tenant_claimed()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var other = await SignInFlow.CreateAsync(fixture.App);
        var (requestId, relayState) = await flow.StartAsync("policy-state", null);
        var assertion = flow.Assertion(requestId) with { Email = "mallory@" + other.Domain };
        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(assertion), relayState));
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("email_domain_not_allowed", callback["error_description"]);
    }
}
