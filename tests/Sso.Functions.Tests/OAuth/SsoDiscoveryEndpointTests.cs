using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

public class SsoDiscoveryEndpointTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static string Discover(string email, string? extra = null) =>
        "/api/v1/sso/discover?email=" + Uri.EscapeDataString(email) + (extra is null ? "" : "&" + extra);

    private static async Task<JsonObject> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task Says_SSO_is_required_for_an_enforcing_tenant_and_builds_the_authorize_url()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["enforceSso"] = true, ["jitProvisioning"] = true });

        var body = await OkAsync(await flow.Admin.GetAsync(Discover(flow.Email,
            $"client_id={flow.ClientId}&redirect_uri={Uri.EscapeDataString(SignInFlow.RedirectUri)}")));

        Assert.True(body["ssoRequired"]!.GetValue<bool>());
        Assert.Equal(flow.TenantId, body["tenantId"]!.GetValue<string>());
        Assert.Equal(flow.ConnectionId, body["connectionId"]!.GetValue<string>());
        var url = new Uri(body["authorizeUrl"]!.GetValue<string>());
        Assert.Equal("http://localhost/oauth/authorize", url.GetLeftPart(UriPartial.Path));
        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal(flow.ClientId, query["client_id"]);
        Assert.Equal(SignInFlow.RedirectUri, query["redirect_uri"]);
        Assert.Equal("openid email profile", query["scope"]);
        Assert.Equal(flow.Email, query["login_hint"]);
        Assert.Null(query["state"]);

        // The URL works once the product adds its state and PKCE challenge: it routes to the tenant's IdP.
        var (_, challenge) = SignInFlow.NewPkce();
        var authorize = await flow.Browser.GetAsync(url.PathAndQuery + "&state=s1&code_challenge=" + challenge + "&code_challenge_method=S256");
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        Assert.StartsWith(SamlTestIdp.SsoUrl + "?", authorize.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Says_SSO_is_optional_when_the_tenant_does_not_enforce_it()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);

        var body = await OkAsync(await flow.Admin.GetAsync(Discover(flow.Email.ToUpperInvariant())));

        Assert.False(body["ssoRequired"]!.GetValue<bool>());
        Assert.Equal(flow.TenantId, body["tenantId"]!.GetValue<string>());
        Assert.Equal(flow.ConnectionId, body["connectionId"]!.GetValue<string>());
        var query = HttpUtility.ParseQueryString(new Uri(body["authorizeUrl"]!.GetValue<string>()).Query);
        Assert.Null(query["client_id"]);
        Assert.Null(query["redirect_uri"]);
    }

    [Fact]
    public async Task Answers_no_tenant_for_an_unknown_domain()
    {
        var admin = fixture.App.CreateAdminClient();

        var body = await OkAsync(await admin.GetAsync(Discover($"someone@unknown{Guid.NewGuid():N}.test")));

        Assert.False(body["ssoRequired"]!.GetValue<bool>());
        Assert.True(body.ContainsKey("tenantId"));
        Assert.Null(body["tenantId"]);
        Assert.Null(body["connectionId"]);
        Assert.Null(body["authorizeUrl"]);
    }

    [Fact]
    public async Task Answers_no_tenant_for_a_domain_whose_tenant_requires_verification_and_has_not_verified_it()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["enforceSso"] = true, ["requireVerifiedDomains"] = true });
        var body = await OkAsync(await flow.Admin.GetAsync(Discover(flow.Email)));
        Assert.Null(body["tenantId"]);
        Assert.False(body["ssoRequired"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Names_the_tenant_but_no_url_when_the_tenant_has_no_connection_yet()
    {
        var admin = fixture.App.CreateAdminClient();
        var domain = $"noconn{Guid.NewGuid():N}"[..20] + ".test";
        var tenant = await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Early", domains = new[] { domain } });
        var tenantId = (await tenant.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsync($"/api/v1/tenants/{tenantId}",
            JsonContent.Create(new JsonObject { ["settings"] = new JsonObject { ["enforceSso"] = true } }))).StatusCode);

        var body = await OkAsync(await admin.GetAsync(Discover("jo@" + domain)));

        Assert.True(body["ssoRequired"]!.GetValue<bool>());
        Assert.Equal(tenantId, body["tenantId"]!.GetValue<string>());
        Assert.Null(body["connectionId"]);
        Assert.Null(body["authorizeUrl"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-an-email")]
    [InlineData("@acme.test")]
    [InlineData("bob@")]
    [InlineData("bob@localhost")]
    [InlineData("bob smith@acme.test")]
    public async Task Answers_400_problem_json_for_a_malformed_email(string email)
    {
        var response = await fixture.App.CreateAdminClient().GetAsync(Discover(email));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("email", (await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Needs_the_admin_key_or_client_credentials()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var anonymous = await flow.Browser.GetAsync(Discover(flow.Email));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);

        var wrongSecret = new HttpRequestMessage(HttpMethod.Get, Discover(flow.Email));
        wrongSecret.Headers.Authorization = Basic(flow.ClientId, "sso_cs_wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await flow.Browser.SendAsync(wrongSecret)).StatusCode);

        var asClient = new HttpRequestMessage(HttpMethod.Get, Discover(flow.Email));
        asClient.Headers.Authorization = Basic(flow.ClientId, flow.ClientSecret);
        var body = await OkAsync(await flow.Browser.SendAsync(asClient));
        Assert.Equal(flow.TenantId, body["tenantId"]!.GetValue<string>());
        // A client gets URLs for itself.
        Assert.Equal(flow.ClientId, HttpUtility.ParseQueryString(new Uri(body["authorizeUrl"]!.GetValue<string>()).Query)["client_id"]);
    }

    [Fact]
    public async Task Refuses_a_client_asking_for_another_client_and_an_unregistered_redirect_uri()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var other = await SignInFlow.CreateAsync(fixture.App);

        var forOther = new HttpRequestMessage(HttpMethod.Get, Discover(flow.Email, "client_id=" + other.ClientId));
        forOther.Headers.Authorization = Basic(flow.ClientId, flow.ClientSecret);
        Assert.Equal(HttpStatusCode.Forbidden, (await flow.Browser.SendAsync(forOther)).StatusCode);

        var badRedirect = await flow.Admin.GetAsync(Discover(flow.Email,
            $"client_id={flow.ClientId}&redirect_uri={Uri.EscapeDataString("https://evil.example/cb")}"));
        Assert.Equal(HttpStatusCode.BadRequest, badRedirect.StatusCode);
        var unknownClient = await flow.Admin.GetAsync(Discover(flow.Email, "client_id=cli_nobody"));
        Assert.Equal(HttpStatusCode.BadRequest, unknownClient.StatusCode);
        var redirectWithoutClient = await flow.Admin.GetAsync(Discover(flow.Email, "redirect_uri=" + Uri.EscapeDataString(SignInFlow.RedirectUri)));
        Assert.Equal(HttpStatusCode.BadRequest, redirectWithoutClient.StatusCode);
    }

    private static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(id) + ":" + Uri.EscapeDataString(secret))));
}
