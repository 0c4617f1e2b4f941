using System.Net;
using System.Text.Json.Nodes;
using System.Web;
using Sso.Functions.Connections;
using Sso.Functions.Setup;
using Sso.Functions.Tests.Oidc;
using Sso.Testing;
using TenantId = Sso.Functions.Storage.TenantId;

namespace Sso.Functions.Tests.Setup;

/// <summary>
/// The wizard's "Other OpenID Connect IdP" path over HTTP, and Test sign-in through it: the
/// real authorize leg (OidcSignInStarter), the real callback, back on the portal's result page.
/// </summary>
public class SetupTestSignInTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>, IAsyncLifetime
{
    private FakeOp _op = null!;

    public async Task InitializeAsync() => _op = await FakeOp.StartAsync();

    public async Task DisposeAsync() => await _op.DisposeAsync();

    private SsoAppFactory App => fixture.App;

    private async Task<(SetupPortalTenant Tenant, SetupPortalTenant.Link Link, HttpClient Browser, string Csrf)> OidcWizardAsync(bool jit)
    {
        var tenant = await SetupPortalTenant.CreateAsync(App, new JsonObject
        {
            ["jitProvisioning"] = jit,
            ["roles"] = new JsonArray("member", "admin"),
            ["defaultRole"] = "member",
        });
        var link = await tenant.CreateLinkAsync(["sso"]);
        var browser = App.CreateAnonymousClient();
        var csrf = SetupPortalTenant.CsrfField(await SetupPortalTenant.OpenPageAsync(browser, link));
        var chosen = await browser.PostAsync(link.Path + "/idp", Form(csrf, ("idp", "oidc")));
        Assert.Equal(link.Path + "/sso", chosen.Headers.Location!.OriginalString);
        var page = await browser.GetStringAsync(link.Path + "/sso");
        Assert.Contains("http://localhost/oidc/callback", page);
        Assert.DoesNotContain("/saml/acs/", page);

        var saved = await browser.PostAsync(link.Path + "/sso", Form(csrf, ("issuer", _op.Issuer), ("clientId", FakeOp.ClientId), ("clientSecret", FakeOp.ClientSecret)));
        Assert.True(saved.StatusCode == HttpStatusCode.SeeOther, await saved.Content.ReadAsStringAsync());
        return (tenant, link, browser, csrf);
    }

    private static FormUrlEncodedContent Form(string csrf, params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).Append(new("csrf", csrf)));

    [Fact]
    public async Task Lets_the_admin_accept_email_addresses_from_an_IdP_that_sends_no_email_verified()
    {
        var (tenant, link, browser, csrf) = await OidcWizardAsync(jit: true);
        var store = App.Get<ConnectionStore>();
        var connection = Assert.Single(await store.ListAsync(new TenantId(tenant.TenantId), default));
        Assert.False(connection.Config["allowUnverifiedEmail"]?.GetValue<bool>() ?? false);
        Assert.DoesNotContain("id=\"allowUnverifiedEmail\" name=\"allowUnverifiedEmail\" value=\"true\" checked",
            await browser.GetStringAsync(link.Path + "/sso"));

        var ticked = await browser.PostAsync(link.Path + "/sso", Form(csrf, ("issuer", _op.Issuer), ("clientId", FakeOp.ClientId),
            ("allowUnverifiedEmail", "true")));
        Assert.True(ticked.StatusCode == HttpStatusCode.SeeOther, await ticked.Content.ReadAsStringAsync());
        connection = Assert.Single(await store.ListAsync(new TenantId(tenant.TenantId), default));
        Assert.True(connection.Config["allowUnverifiedEmail"]!.GetValue<bool>());
        Assert.Contains("id=\"allowUnverifiedEmail\" name=\"allowUnverifiedEmail\" value=\"true\" checked",
            await browser.GetStringAsync(link.Path + "/sso"));

        var unticked = await browser.PostAsync(link.Path + "/sso", Form(csrf, ("issuer", _op.Issuer), ("clientId", FakeOp.ClientId)));
        Assert.Equal(HttpStatusCode.SeeOther, unticked.StatusCode);
        connection = Assert.Single(await store.ListAsync(new TenantId(tenant.TenantId), default));
        Assert.False(connection.Config["allowUnverifiedEmail"]?.GetValue<bool>() ?? false);
    }

    [Fact]
    public async Task Creates_an_OIDC_connection_and_shows_what_a_test_sign_in_received()
    {
        var (tenant, link, browser, _) = await OidcWizardAsync(jit: true);
        var connection = Assert.Single(await App.Get<ConnectionStore>().ListAsync(new TenantId(tenant.TenantId), default));
        Assert.Equal("oidc", connection.Type);
        Assert.Equal(_op.Issuer, connection.ConfigString("issuer"));
        Assert.DoesNotContain(FakeOp.ClientSecret, connection.Config.ToJsonString());

        var start = await browser.GetAsync(link.Path + "/test-sign-in");
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var authorize = start.Headers.Location!;
        Assert.Equal(_op.Issuer + "/authorize", authorize.GetLeftPart(UriPartial.Path));
        Assert.DoesNotContain(link.Token, authorize.OriginalString);
        var cookie = Assert.Single(start.Headers.GetValues("Set-Cookie"), c => c.StartsWith(SetupTestSignIn.CookieName + "="));
        Assert.Contains("path=/setup/test-callback", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("no-referrer", string.Join(",", start.Headers.GetValues("Referrer-Policy")));

        var query = HttpUtility.ParseQueryString(authorize.Query);
        var email = "alice@" + tenant.Domain;
        var claims = _op.Claims(query["nonce"]!, App.Clock.GetUtcNow(), email);
        claims["department"] = "Research";
        _op.IdToken = () => _op.Sign(claims);
        var callback = await browser.GetAsync($"/oidc/callback?code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(query["state"]!)}&iss={Uri.EscapeDataString(_op.Issuer)}");
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var back = callback.Headers.Location!;
        Assert.Equal("http://localhost" + SetupTestSignIn.CallbackPath, back.GetLeftPart(UriPartial.Path));

        var landed = await browser.GetAsync(back.PathAndQuery);
        Assert.Equal(HttpStatusCode.SeeOther, landed.StatusCode);
        Assert.Equal(link.Path + "/test-result", landed.Headers.Location!.OriginalString);
        var result = await browser.GetStringAsync(link.Path + "/test-result");
        Assert.Contains("Signed in as " + email, result);
        Assert.Contains("<strong id=\"mapped-role\">member</strong>", result);
        Assert.Contains("Alice Liddell", result);
        Assert.Contains("department", result);
        Assert.Contains("Research", result);

        // The same answer again: the test it belonged to is finished.
        var replayed = await browser.GetAsync(back.PathAndQuery);
        Assert.NotEqual(HttpStatusCode.SeeOther, replayed.StatusCode);
        // A browser that did not start the test has no way back to the link.
        var stranger = await App.CreateAnonymousClient().GetAsync(back.PathAndQuery);
        Assert.Equal(HttpStatusCode.BadRequest, stranger.StatusCode);
        Assert.DoesNotContain("Hopper Labs", await stranger.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Shows_the_refusal_when_the_sign_in_policy_refuses_the_tested_user()
    {
        var (tenant, link, browser, csrf) = await OidcWizardAsync(jit: false);
        // The link's connection is OIDC: switching it to a SAML IdP is refused, and nothing changes.
        var switched = await browser.PostAsync(link.Path + "/idp", Form(csrf, ("idp", "okta")));
        Assert.Equal(HttpStatusCode.Conflict, switched.StatusCode);
        Assert.Contains("already has a connection of type OIDC", await switched.Content.ReadAsStringAsync());
        Assert.Contains("value=\"oidc\" checked", await browser.GetStringAsync(link.Path + "/idp"));
        var authorize = (await browser.GetAsync(link.Path + "/test-sign-in")).Headers.Location!;
        var query = HttpUtility.ParseQueryString(authorize.Query);
        _op.IdToken = () => _op.Sign(_op.Claims(query["nonce"]!, App.Clock.GetUtcNow(), "bob@" + tenant.Domain));
        var callback = await browser.GetAsync($"/oidc/callback?code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(query["state"]!)}&iss={Uri.EscapeDataString(_op.Issuer)}");
        var back = callback.Headers.Location!;
        Assert.Equal("user_not_provisioned", HttpUtility.ParseQueryString(back.Query)["error_description"]);

        Assert.Equal(HttpStatusCode.SeeOther, (await browser.GetAsync(back.PathAndQuery)).StatusCode);
        var result = await browser.GetStringAsync(link.Path + "/test-result");
        Assert.Contains("access_denied (user_not_provisioned)", result);
        Assert.Contains("just-in-time provisioning is off", result);
    }

    [Fact]
    public async Task Refuses_test_sign_in_before_a_connection_is_saved_and_keeps_other_links_apart()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync(["sso"]);
        var browser = App.CreateAnonymousClient();
        await SetupPortalTenant.OpenPageAsync(browser, link);
        var early = await browser.GetAsync(link.Path + "/test-sign-in");
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("Save the connection first", await early.Content.ReadAsStringAsync());

        var dsyncOnly = await tenant.CreateLinkAsync(["dsync"]);
        await SetupPortalTenant.OpenPageAsync(browser, dsyncOnly);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync(dsyncOnly.Path + "/sso")).StatusCode);
        await SetupPortalTenant.OpenPageAsync(browser, link);
        var ssoOnly = await browser.GetAsync(link.Path + "/dsync");
        Assert.Equal(HttpStatusCode.NotFound, ssoOnly.StatusCode);
        Assert.Contains("does not include", await ssoOnly.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_test_sign_in_flow_refuses_a_used_code_and_an_answer_it_did_not_start()
    {
        var (tenant, link, browser, _) = await OidcWizardAsync(jit: true);
        var authorize = (await browser.GetAsync(link.Path + "/test-sign-in")).Headers.Location!;
        var query = HttpUtility.ParseQueryString(authorize.Query);
        _op.IdToken = () => _op.Sign(_op.Claims(query["nonce"]!, App.Clock.GetUtcNow(), "carol@" + tenant.Domain));
        var callback = await browser.GetAsync($"/oidc/callback?code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(query["state"]!)}&iss={Uri.EscapeDataString(_op.Issuer)}");
        var answer = HttpUtility.ParseQueryString(callback.Headers.Location!.Query);
        var (code, state) = (answer["code"]!, answer["state"]!);

        var tenantId = new TenantId(tenant.TenantId);
        var flow = App.Get<SetupTestSignInFlow>();
        var links = App.Get<SetupLinkStore>();
        var stored = (await links.FindAsync(tenantId, link.Id, default))!;
        Assert.Equal(SetupTestRefusal.WrongState, (await flow.FinishAsync(stored, "not-the-state", code, "", "", default)).Error);

        // Someone redeemed the code first: the test is a failure, and the link has no test pending.
        var portalClient = (await links.FindPortalClientAsync(tenantId, default))!.Value;
        Assert.NotNull(await App.Get<Sso.Functions.OAuth.AuthorizationCodeStore>().TakeAsync(portalClient, code, default));
        var finished = await flow.FinishAsync(stored, state, code, "", "", default);
        Assert.True(finished.IsSuccess, finished.ToString());
        Assert.Equal("failure", finished.Value.LastTest!["outcome"]!.GetValue<string>());
        Assert.Equal("invalid_grant", finished.Value.LastTest!["error"]!.GetValue<string>());
        Assert.Null(finished.Value.PendingTestStateHash);
        Assert.Equal(SetupTestRefusal.WrongState, (await flow.FinishAsync(finished.Value, state, code, "", "", default)).Error);
    }

    [Fact]
    public async Task The_test_sign_in_flow_refuses_to_start_without_a_saved_connection()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync(["sso"]);
        var stored = (await App.Get<SetupLinkStore>().FindAsync(new TenantId(tenant.TenantId), link.Id, default))!;
        var started = await App.Get<SetupTestSignInFlow>().StartAsync(stored, default);
        Assert.Equal(SetupTestRefusal.NoConnection, started.Error);
        Assert.Null(await App.Get<SetupLinkStore>().FindPortalClientAsync(new TenantId(tenant.TenantId), default));
    }
}
