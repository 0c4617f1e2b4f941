using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.Scim;

public class ScimAuthenticationTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    public static TheoryData<string> Routes => new()
    {
        "/Users", "/Groups", "/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/Users/usr_x", "/Groups/grp_x",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "/ResourceTypes/User",
    };

    private async Task AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        await AssertScimErrorAsync(response, HttpStatusCode.Unauthorized, null);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Refuses_every_SCIM_route_without_the_directory_token(string route)
    {
        var directory = await CreateAsync(App);
        var anonymous = App.CreateAnonymousClient();

        await AssertUnauthorizedAsync(await anonymous.GetAsync(directory.Base + route));
    }

    [Fact]
    public async Task Refuses_the_token_of_another_directory_and_reads_nothing()
    {
        var a = await CreateAsync(App);
        var b = await CreateAsync(App);
        var alice = (await a.CreateUserAsync($"alice.{Guid.NewGuid():N}@a.test"))["id"]!.GetValue<string>();

        var bOnA = App.CreateAnonymousClient();
        bOnA.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", b.Token);

        await AssertUnauthorizedAsync(await bOnA.GetAsync($"{a.Base}/Users/{alice}"));
        await AssertUnauthorizedAsync(await bOnA.GetAsync($"{a.Base}/Users"));
        await AssertUnauthorizedAsync(await bOnA.DeleteAsync($"{a.Base}/Users/{alice}"));
        // B's own URL does not show A's user either.
        await AssertScimErrorAsync(await b.GetAsync($"/Users/{alice}"), HttpStatusCode.NotFound, null);
        Assert.Equal(0, (await ReadAsync(await b.GetAsync("/Users")))["totalResults"]!.GetValue<int>());
        Assert.Equal("active", (await a.DirectoryUserAsync(alice))["state"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Basic scheme", "Basic", "dXNlcjpwYXNz")]
    [InlineData("a wrong token", "Bearer", "scim_not-a-real-token")]
    [InlineData("an empty bearer", "Bearer", " ")]
    public async Task Refuses_other_credentials(string name, string scheme, string parameter)
    {
        var directory = await CreateAsync(App);
        var client = App.CreateAnonymousClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"{scheme} {parameter}");

        await AssertUnauthorizedAsync(await client.GetAsync(directory.Base + "/Users"));
        Assert.NotNull(name);
    }

    [Fact]
    public async Task Refuses_a_revoked_token_at_once_and_keeps_the_others()
    {
        var directory = await CreateAsync(App);
        var second = (await ReadAsync(await directory.Admin.PostAsync(
            $"/api/v1/tenants/{directory.TenantId}/directories/{directory.DirectoryId}/tokens", Body("""{"name":"rotation"}""", "application/json"))))!;
        var other = App.CreateAnonymousClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", second["token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await directory.GetAsync("/Users")).StatusCode);

        var revoke = await directory.Admin.DeleteAsync($"/api/v1/tenants/{directory.TenantId}/directories/{directory.DirectoryId}/tokens/{directory.TokenId}");

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        await AssertUnauthorizedAsync(await directory.GetAsync("/Users"));
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync(directory.Base + "/Users")).StatusCode);
    }

    [Fact]
    public async Task Serves_discovery_documents_that_tell_the_truth()
    {
        var directory = await CreateAsync(App);

        var config = await ReadAsync(await directory.GetAsync("/ServiceProviderConfig"));
        Assert.True(config["patch"]!["supported"]!.GetValue<bool>());
        Assert.False(config["bulk"]!["supported"]!.GetValue<bool>());
        Assert.Equal("oauthbearertoken", config["authenticationSchemes"]![0]!["type"]!.GetValue<string>());

        var schemas = await ReadAsync(await directory.GetAsync("/Schemas"));
        Assert.Equal(3, schemas["totalResults"]!.GetValue<int>());
        var user = await ReadAsync(await directory.GetAsync("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"));
        Assert.Contains(user["attributes"]!.AsArray(), a => a!["name"]!.GetValue<string>() == "userName" && !a["caseExact"]!.GetValue<bool>());

        var types = await ReadAsync(await directory.GetAsync("/ResourceTypes"));
        Assert.Equal(["User", "Group"], types["Resources"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        var userType = await ReadAsync(await directory.GetAsync("/ResourceTypes/User"));
        Assert.Equal($"{directory.ScimBaseUrl}/ResourceTypes/User", userType["meta"]!["location"]!.GetValue<string>());
        await AssertScimErrorAsync(await directory.GetAsync("/Schemas/urn:nope"), HttpStatusCode.NotFound, null);
    }
}
