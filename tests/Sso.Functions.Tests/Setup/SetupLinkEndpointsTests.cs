using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Functions.Tests.Setup;

public class SetupLinkEndpointsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task Creates_a_link_whose_url_opens_the_portal_and_defaults_to_72_hours()
    {
        var tenant = await SetupPortalTenant.CreateAsync(fixture.App);
        var link = await tenant.CreateLinkAsync(["sso"]);

        Assert.StartsWith("stl_", link.Id);
        Assert.StartsWith("http://localhost/setup#sso_setup_" + tenant.TenantId + ".", link.Url);
        Assert.Equal(["sso"], link.Body["features"]!.AsArray().Select(f => f!.GetValue<string>()));
        var expiresAt = DateTimeOffset.Parse(link.Body["expiresAt"]!.GetValue<string>());
        Assert.Equal(fixture.App.Clock.GetUtcNow().AddHours(72), expiresAt, TimeSpan.FromSeconds(1));

        var page = await SetupPortalTenant.OpenAsync(fixture.App.CreateAnonymousClient(), link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Hopper Labs", await page.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"features":[]}""", "features")]
    [InlineData("""{"features":["sso","scim"]}""", "features")]
    [InlineData("""{"features":"sso"}""", "features")]
    [InlineData("""{}""", "features")]
    [InlineData("""{"features":["sso"],"expiresInHours":0}""", "expiresInHours")]
    [InlineData("""{"features":["sso"],"expiresInHours":721}""", "expiresInHours")]
    [InlineData("""{"features":["sso"],"expiresInHours":1.5}""", "expiresInHours")]
    [InlineData("""{"features":["sso"],"expiresInHours":"24"}""", "expiresInHours")]
    public async Task Refuses_invalid_features_and_lifetimes_with_a_validation_problem(string body, string field)
    {
        var tenant = await SetupPortalTenant.CreateAsync(fixture.App);
        var response = await tenant.Admin.PostAsync($"/api/v1/tenants/{tenant.TenantId}/setup-links",
            new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.EndsWith("/validation-failed", problem["type"]!.GetValue<string>());
        Assert.Contains(field, problem["detail"]!.GetValue<string>());
        await AssertNoLinksAsync(tenant);
    }

    [Fact]
    public async Task Refuses_unknown_fields_and_bodies_that_are_not_json_objects()
    {
        var tenant = await SetupPortalTenant.CreateAsync(fixture.App);
        var unknown = await tenant.Admin.PostAsync($"/api/v1/tenants/{tenant.TenantId}/setup-links",
            new StringContent("""{"features":["sso"],"email":"x@y.test"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("/unknown-field", await unknown.Content.ReadAsStringAsync());
        var array = await tenant.Admin.PostAsync($"/api/v1/tenants/{tenant.TenantId}/setup-links",
            new StringContent("""["sso"]""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, array.StatusCode);
        Assert.Equal("application/problem+json", array.Content.Headers.ContentType?.MediaType);
        await AssertNoLinksAsync(tenant);
    }

    [Fact]
    public async Task Answers_404_problem_for_an_unknown_tenant_and_401_without_the_admin_key()
    {
        var missing = await fixture.App.CreateAdminClient().PostAsJsonAsync("/api/v1/tenants/ten_00000000000000000000000000/setup-links",
            new JsonObject { ["features"] = new JsonArray("sso") });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        var list = await fixture.App.CreateAdminClient().GetAsync("/api/v1/tenants/ten_00000000000000000000000000/setup-links");
        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);

        var tenant = await SetupPortalTenant.CreateAsync(fixture.App);
        var anonymous = await fixture.App.CreateAnonymousClient().PostAsJsonAsync($"/api/v1/tenants/{tenant.TenantId}/setup-links",
            new JsonObject { ["features"] = new JsonArray("sso") });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        await AssertNoLinksAsync(tenant);
    }

    [Fact]
    public async Task Lists_links_with_their_status_and_never_the_token()
    {
        var tenant = await SetupPortalTenant.CreateAsync(fixture.App);
        var first = await tenant.CreateLinkAsync(["sso", "dsync"], 24);
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(1));
        var second = await tenant.CreateLinkAsync(["dsync"]);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.RevokeAsync(second)).StatusCode);

        var response = await tenant.Admin.GetAsync($"/api/v1/tenants/{tenant.TenantId}/setup-links");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(first.Token, text);
        Assert.DoesNotContain(second.Token, text);
        Assert.DoesNotContain("sso_setup_", text);
        var data = JsonNode.Parse(text)!["data"]!.AsArray();
        Assert.Equal([first.Id, second.Id], data.Select(l => l!["id"]!.GetValue<string>()));
        Assert.Equal(["active", "revoked"], data.Select(l => l!["status"]!.GetValue<string>()));
        Assert.All(data, l => Assert.Null(l!["url"]));
    }

    [Fact]
    public async Task Revokes_a_link_at_once_and_answers_404_for_an_unknown_link()
    {
        var tenant = await SetupPortalTenant.CreateAsync(fixture.App);
        var link = await tenant.CreateLinkAsync();
        var browser = fixture.App.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await SetupPortalTenant.OpenAsync(browser, link)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.RevokeAsync(link)).StatusCode);
        var page = await browser.GetAsync(link.Path + "/idp");
        Assert.Equal(HttpStatusCode.Gone, page.StatusCode);
        Assert.DoesNotContain("Hopper Labs", await page.Content.ReadAsStringAsync());

        var unknown = await tenant.Admin.DeleteAsync($"/api/v1/tenants/{tenant.TenantId}/setup-links/stl_00000000000000000000000000");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        // Another tenant cannot revoke this tenant's link.
        var other = await SetupPortalTenant.CreateAsync(fixture.App);
        var otherLink = await other.CreateLinkAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.Admin.DeleteAsync($"/api/v1/tenants/{tenant.TenantId}/setup-links/{otherLink.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SetupPortalTenant.OpenAsync(browser, otherLink)).StatusCode);
    }

    private static async Task AssertNoLinksAsync(SetupPortalTenant tenant)
    {
        var list = (await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}/setup-links"))!;
        Assert.Empty(list["data"]!.AsArray());
    }

    [Fact]
    public async Task The_issuer_lists_a_tenants_links_with_their_status()
    {
        var tenant = await SetupPortalTenant.CreateAsync(fixture.App);
        var first = await tenant.CreateLinkAsync(["sso"]);
        var second = await tenant.CreateLinkAsync(["dsync"]);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.RevokeAsync(first)).StatusCode);
        var other = await SetupPortalTenant.CreateAsync(fixture.App);
        await other.CreateLinkAsync();

        var listed = await fixture.App.Get<Sso.Functions.Setup.SetupLinkIssuer>()
            .ListAsync(new Sso.Functions.Storage.TenantId(tenant.TenantId), default);
        Assert.Equal(new[] { (first.Id, "revoked"), (second.Id, "active") }.Order(), listed.Select(l => (l.Link.Id, l.Status)).Order());
    }
}
