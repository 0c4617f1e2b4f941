using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Tests.Saml;
using Sso.Functions.Tests.Tenants;

namespace Sso.Functions.Tests.OAuth;

/// <summary>The email-domain guard of a sign-in through a SAML connection (issue #10, sign-in guards).</summary>
public class SignInGuardTests(DomainVerificationFixture fixture) : IClassFixture<DomainVerificationFixture>
{
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    private static async Task<Dictionary<string, string>> SignInAsAsync(SignInFlow flow, string email, string? extra = null)
    {
        var (requestId, relayState) = await flow.StartAsync("guard-state", null, extra);
        var assertion = flow.Assertion(requestId) with { Email = email };
        return SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(assertion), relayState));
    }

    private static void AssertRefused(Dictionary<string, string> callback, string reason)
    {
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal(reason, callback["error_description"]);
        Assert.Equal("guard-state", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }

    private async Task<JsonArray> LoginEventsAsync(SignInFlow flow)
    {
        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(5));
        var feed = await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={flow.TenantId}");
        return new JsonArray(feed!["data"]!.AsArray().Where(e => e!["type"]!.GetValue<string>() == "sso.login")
            .Select(e => e!.DeepClone()).ToArray());
    }

    [Fact]
    public async Task Refuses_an_email_outside_the_tenant_domains_and_records_a_failed_sso_login()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var outsider = $"guest@outside{Guid.NewGuid():N}"[..30] + ".test";

        AssertRefused(await SignInAsAsync(flow, outsider), "email_outside_tenant_domains");

        var login = Assert.Single(await LoginEventsAsync(flow));
        Assert.Equal("failure", login!["data"]!["outcome"]!.GetValue<string>());
        Assert.Equal("email_outside_tenant_domains", login["data"]!["reason"]!.GetValue<string>());
        Assert.Equal(flow.ConnectionId, login["connectionId"]!.GetValue<string>());
        Assert.DoesNotContain(outsider, login.ToJsonString());
    }

    [Fact]
    public async Task Refuses_a_subdomain_of_a_tenant_domain()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        AssertRefused(await SignInAsAsync(flow, "alice@eng." + flow.Domain), "email_outside_tenant_domains");
    }

    [Fact]
    public async Task Admits_an_outside_email_when_the_connection_allows_outside_domains()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit, new JsonObject { ["allowOutsideDomains"] = true });

        var callback = await SignInAsAsync(flow, "contractor@partner-agency.test");

        Assert.True(callback.ContainsKey("code"), string.Join("&", callback));
        var login = Assert.Single(await LoginEventsAsync(flow));
        Assert.Equal("success", login!["data"]!["outcome"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refuses_another_tenants_domain_even_when_outside_domains_are_allowed()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit, new JsonObject { ["allowOutsideDomains"] = true });
        var other = await SignInFlow.CreateAsync(fixture.App);
        AssertRefused(await SignInAsAsync(flow, "mallory@" + other.Domain), "email_domain_not_allowed");
    }

    [Fact]
    public async Task Allows_outside_domains_after_a_PATCH_and_refuses_them_again_after_another()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var connectionUrl = $"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}";
        Assert.False((await flow.Admin.GetFromJsonAsync<JsonObject>(connectionUrl))!["allowOutsideDomains"]!.GetValue<bool>());

        var on = await flow.Admin.PatchAsync(connectionUrl, JsonContent.Create(new JsonObject { ["allowOutsideDomains"] = true }));
        Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        Assert.True((await on.Content.ReadFromJsonAsync<JsonObject>())!["allowOutsideDomains"]!.GetValue<bool>());
        Assert.True((await SignInAsAsync(flow, "guest@partner-agency.test")).ContainsKey("code"));

        Assert.Equal(HttpStatusCode.OK,
            (await flow.Admin.PatchAsync(connectionUrl, JsonContent.Create(new JsonObject { ["allowOutsideDomains"] = false }))).StatusCode);
        AssertRefused(await SignInAsAsync(flow, "guest@partner-agency.test"), "email_outside_tenant_domains");
    }

    [Fact]
    public async Task Refuses_an_allowOutsideDomains_that_is_not_a_boolean()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var response = await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}",
            JsonContent.Create(new JsonObject { ["allowOutsideDomains"] = "yes" }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("allowOutsideDomains", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Refuses_an_unverified_domain_while_verification_is_required_and_admits_it_once_verified()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true, ["requireVerifiedDomains"] = true });
        // An unverified domain routes no login_hint, so the client names the connection.
        var byConnection = "connection=" + flow.ConnectionId;

        AssertRefused(await SignInAsAsync(flow, flow.Email, byConnection), "email_domain_not_verified");

        var claim = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{flow.TenantId}/domains"))!["data"]![0]!;
        fixture.Dns.SetTxt(claim["challengeRecord"]!.GetValue<string>(), claim["challenge"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK,
            (await flow.Admin.PostAsync($"/api/v1/tenants/{flow.TenantId}/domains/{flow.Domain}/verify", null)).StatusCode);

        Assert.True((await SignInAsAsync(flow, flow.Email, byConnection)).ContainsKey("code"));
    }

    [Fact]
    public async Task An_unverified_domain_of_another_tenant_claims_no_email_so_a_guest_connection_admits_it()
    {
        var owner = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["requireVerifiedDomains"] = true });
        var strict = await SignInFlow.CreateAsync(fixture.App, Jit);
        var guests = await SignInFlow.CreateAsync(fixture.App, Jit, new JsonObject { ["allowOutsideDomains"] = true });

        AssertRefused(await SignInAsAsync(strict, "bob@" + owner.Domain), "email_outside_tenant_domains");
        Assert.True((await SignInAsAsync(guests, "bob@" + owner.Domain)).ContainsKey("code"));
    }

    [Fact]
    public async Task Gives_unknown_and_outside_users_distinct_codes()
    {
        // Deprovisioned and suspended users have their own codes too (SignInPolicyTests).
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var codes = new[]
        {
            (await SignInAsAsync(flow, flow.Email))["error_description"],
            (await SignInAsAsync(flow, "alice@elsewhere.test"))["error_description"],
        };
        Assert.Equal(["user_not_provisioned", "email_outside_tenant_domains"], codes);
    }
}
