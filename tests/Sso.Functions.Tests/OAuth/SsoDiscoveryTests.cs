using System.Text.Json.Nodes;
using System.Web;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

/// <summary>The work of <c>/api/v1/sso/discover</c> called as an operation, against Azurite.</summary>
public class SsoDiscoveryTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoDiscovery Discovery => fixture.App.Get<SsoDiscovery>();

    [Fact]
    public async Task Finds_the_emails_tenant_and_connection_and_builds_the_authorize_url_for_the_calling_client()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["enforceSso"] = true });
        var caller = await Discovery.AuthenticateClientAsync(flow.ClientId, flow.ClientSecret, default);
        Assert.NotNull(caller);

        var found = await Discovery.DiscoverAsync(new SsoDiscoveryQuery(" " + flow.Email + " ", null, SignInFlow.RedirectUri, null), caller, default);

        Assert.True(found.IsSuccess, found.ToString());
        Assert.Equal(flow.TenantId, found.Value.TenantId?.Value);
        var body = found.Value.Body;
        Assert.True(body["ssoRequired"]!.GetValue<bool>());
        Assert.Equal(flow.ConnectionId, body["connectionId"]!.GetValue<string>());
        var query = HttpUtility.ParseQueryString(new Uri(body["authorizeUrl"]!.GetValue<string>()).Query);
        Assert.Equal(flow.ClientId, query["client_id"]);
        Assert.Equal(SignInFlow.RedirectUri, query["redirect_uri"]);
        Assert.Equal(SsoDiscovery.DefaultScope, query["scope"]);
        Assert.Equal(flow.Email, query["login_hint"]);
    }

    [Fact]
    public async Task Answers_no_tenant_for_an_unclaimed_domain()
    {
        var found = await Discovery.DiscoverAsync(new SsoDiscoveryQuery("bob@" + TestTenant.UniqueDomain("nobody"), null, null, null), null, default);

        Assert.Null(found.Value.TenantId);
        Assert.False(found.Value.Body["ssoRequired"]!.GetValue<bool>());
        Assert.Null(found.Value.Body["authorizeUrl"]);
    }

    [Fact]
    public async Task Refuses_a_wrong_secret_another_clients_id_and_a_bad_query_with_the_APIs_problems()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        Assert.Null(await Discovery.AuthenticateClientAsync(flow.ClientId, flow.ClientSecret + "x", default));
        Assert.Null(await Discovery.AuthenticateClientAsync("not-a-client", flow.ClientSecret, default));
        var caller = await Discovery.AuthenticateClientAsync(flow.ClientId, flow.ClientSecret, default);

        async Task<(int Status, string Detail)> RefusedAsync(SsoDiscoveryQuery query, OAuthClient? by)
        {
            var refused = (await Discovery.DiscoverAsync(query, by, default)).Error;
            return (refused.Status, refused.Detail);
        }
        Assert.Equal((400, "'email' must be an email address (name@company.com)."),
            await RefusedAsync(new SsoDiscoveryQuery("not an email", null, null, null), null));
        Assert.Equal(403, (await RefusedAsync(new SsoDiscoveryQuery(flow.Email, ClientId.New().Value, null, null), caller)).Status);
        Assert.Equal((400, "'redirect_uri' needs 'client_id'."),
            await RefusedAsync(new SsoDiscoveryQuery(flow.Email, null, SignInFlow.RedirectUri, null), null));
        Assert.Equal((400, "'redirect_uri' is not one of the client's registered redirect URIs."),
            await RefusedAsync(new SsoDiscoveryQuery(flow.Email, flow.ClientId, "https://evil.example.test/cb", null), null));
        Assert.Equal((400, "'scope' must be space-separated scope names (printable ASCII)."),
            await RefusedAsync(new SsoDiscoveryQuery(flow.Email, null, null, ""), null));
        Assert.StartsWith("'client_id': there is no client",
            (await RefusedAsync(new SsoDiscoveryQuery(flow.Email, ClientId.New().Value, null, null), null)).Detail);
    }
}
