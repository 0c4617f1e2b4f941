using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Sso.Functions.Tests.Oidc;

/// <summary>Google <c>hd</c>, Entra <c>tid</c> and the email-domain guard on the OIDC callback.</summary>
public class OidcSignInGuardTests(FakeOpFixture fixture) : IClassFixture<FakeOpFixture>, IAsyncLifetime
{
    private const string CustomerTid = "9188040d-6c67-4c5b-b112-36a304b66dad";

    private readonly OidcTestFlow _flow = new(fixture.App);
    private FakeOp Op => fixture.Op;
    private string _domain = "";
    private string _tenantId = "";
    private string _clientId = "";

    public async Task InitializeAsync()
    {
        Op.IdToken = null;
        _domain = OidcTestFlow.UniqueDomain();
        Op.DefaultEmail = "alice@" + _domain;
        _tenantId = await _flow.CreateTenantAsync(_domain);
        (_clientId, _) = await _flow.CreateClientAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private DateTimeOffset Now => fixture.App.Clock.GetUtcNow();

    private async Task<string> CreateConnectionAsync(JsonObject extras, string? issuer = null)
    {
        var body = new JsonObject
        {
            ["type"] = "oidc", ["issuer"] = issuer ?? Op.Issuer, ["clientId"] = FakeOp.ClientId, ["clientSecret"] = FakeOp.ClientSecret,
        };
        foreach (var (name, value) in extras) body[name] = value?.DeepClone();
        var response = await _flow.PostConnectionAsync(_tenantId, body);
        var view = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(response.StatusCode == HttpStatusCode.Created, view.ToJsonString());
        return view["id"]!.GetValue<string>();
    }

    /// <summary>authorize (as the starter) → the IdP returns an id_token with <paramref name="edit"/> applied → our callback.</summary>
    private async Task<HttpResponseMessage> SignInAsync(string connectionId, Action<JsonObject> edit, string? iss = null)
    {
        var url = await _flow.StartAsync(_tenantId, connectionId, _clientId);
        var claims = Op.Claims(OidcTestFlow.Param(url, "nonce"), Now);
        edit(claims);
        Op.IdToken = () => Op.Sign(claims);
        return await _flow.CallbackAsync($"code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(OidcTestFlow.Param(url, "state"))}" +
                                         $"&iss={Uri.EscapeDataString(iss ?? Op.Issuer)}");
    }

    private static void AssertSignedIn(HttpResponseMessage response) =>
        Assert.True(OidcTestFlow.ParamOrNull(response.Headers.Location!, "code") is { Length: > 0 }, response.Headers.Location?.Query);

    [Theory]
    [InlineData("match", true)]
    [InlineData("OTHER.example", false)]
    [InlineData(null, false)]
    public async Task Checks_a_Google_hd_against_the_connection_hosted_domain(string? hd, bool admitted)
    {
        var connectionId = await CreateConnectionAsync(new JsonObject { ["googleHostedDomain"] = _domain.ToUpperInvariant() });

        var response = await SignInAsync(connectionId, claims =>
        {
            if (hd is not null) claims["hd"] = hd == "match" ? _domain : hd;
        });

        if (admitted) AssertSignedIn(response);
        else OidcTestFlow.AssertErrorRedirect(response, "access_denied", "idp_tenant_mismatch");
    }

    [Fact]
    public async Task Refuses_an_id_token_without_email_verified_until_the_connection_sets_allowUnverifiedEmail()
    {
        // Entra ID's shape: an email claim and no email_verified.
        var connectionId = await CreateConnectionAsync(new JsonObject());
        var url = $"/api/v1/tenants/{_tenantId}/connections/{connectionId}";
        Assert.False((await _flow.Admin.GetFromJsonAsync<JsonObject>(url))!["allowUnverifiedEmail"]!.GetValue<bool>());

        OidcTestFlow.AssertErrorRedirect(await SignInAsync(connectionId, c => c.Remove("email_verified")), "access_denied", "email_not_verified");
        OidcTestFlow.AssertErrorRedirect(await SignInAsync(connectionId, c => c["email_verified"] = false), "access_denied", "email_not_verified");

        var bad = await _flow.Admin.PatchAsync(url, JsonContent.Create(new JsonObject { ["allowUnverifiedEmail"] = "yes" }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var allowed = await _flow.Admin.PatchAsync(url, JsonContent.Create(new JsonObject { ["allowUnverifiedEmail"] = true }));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.True((await allowed.Content.ReadFromJsonAsync<JsonObject>())!["allowUnverifiedEmail"]!.GetValue<bool>());

        AssertSignedIn(await SignInAsync(connectionId, c => c.Remove("email_verified")));
        // The opt-out does not open the domain guard: an address outside the tenant is still refused.
        OidcTestFlow.AssertErrorRedirect(await SignInAsync(connectionId, c => { c.Remove("email_verified"); c["email"] = "mallory@elsewhere.example"; }),
            "access_denied", "email_outside_tenant_domains");
    }

    [Fact]
    public async Task Sets_and_clears_the_Google_hosted_domain_and_refuses_a_bad_one()
    {
        var connectionId = await CreateConnectionAsync(new JsonObject { ["googleHostedDomain"] = "Example.COM" });
        var url = $"/api/v1/tenants/{_tenantId}/connections/{connectionId}";
        var view = (await _flow.Admin.GetFromJsonAsync<JsonObject>(url))!;
        Assert.Equal("example.com", view["googleHostedDomain"]!.GetValue<string>());
        Assert.False(view["allowOutsideDomains"]!.GetValue<bool>());
        // OIDC keys come from the IdP's JWKS: no certificate to watch.
        Assert.Empty(view["certificates"]!.AsArray());
        Assert.Empty(view["warnings"]!.AsArray());

        var bad = await _flow.Admin.PatchAsync(url, JsonContent.Create(new JsonObject { ["googleHostedDomain"] = "not a domain" }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        var cleared = await _flow.Admin.PatchAsync(url, JsonContent.Create(new JsonObject { ["googleHostedDomain"] = null }));
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.False((await cleared.Content.ReadFromJsonAsync<JsonObject>())!.ContainsKey("googleHostedDomain"));
        AssertSignedIn(await SignInAsync(connectionId, _ => { }));
    }

    [Theory]
    [InlineData(CustomerTid, true)]
    [InlineData("00000000-0000-0000-0000-000000000001", false)]
    [InlineData(null, false)]
    public async Task Checks_an_Entra_tid_against_the_tenant_of_a_single_tenant_issuer(string? tid, bool admitted)
    {
        var issuer = Op.EntraIssuer(CustomerTid);
        var connectionId = await CreateConnectionAsync(new JsonObject(), issuer);

        var response = await SignInAsync(connectionId, claims =>
        {
            claims["iss"] = issuer;
            if (tid is not null) claims["tid"] = tid;
        }, issuer);

        if (admitted) AssertSignedIn(response);
        else OidcTestFlow.AssertErrorRedirect(response, "access_denied", "idp_tenant_mismatch");
    }

    [Fact]
    public async Task Refuses_an_email_outside_the_tenant_domains_unless_the_connection_allows_it()
    {
        // Two connections of one tenant: each lists the domains it may assert (issue 18.6).
        var strict = await CreateConnectionAsync(new JsonObject { ["domains"] = new JsonArray(_domain) });
        var guests = await CreateConnectionAsync(new JsonObject { ["allowOutsideDomains"] = true, ["domains"] = new JsonArray(_domain) });

        OidcTestFlow.AssertErrorRedirect(await SignInAsync(strict, c => c["email"] = "guest@elsewhere.test"),
            "access_denied", "email_outside_tenant_domains");
        AssertSignedIn(await SignInAsync(guests, c => c["email"] = "guest@elsewhere.test"));
    }
}
