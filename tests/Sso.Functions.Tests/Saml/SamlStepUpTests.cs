using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// Issue 18.8 through the real app: <c>prompt=login</c> and <c>max_age</c> become
/// <c>ForceAuthn="true"</c> on the AuthnRequest, and the assertion's AuthnInstant must be fresh
/// enough (default clock skew 3 minutes), else <c>stale_authentication</c>.
/// </summary>
public class SamlStepUpTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(3);

    private static async Task<(string RequestId, string RelayState, bool ForceAuthn)> AuthorizeAsync(SignInFlow flow, string? extra)
    {
        var (_, challenge) = SignInFlow.NewPkce();
        var response = await flow.Browser.GetAsync(flow.AuthorizeUrl("state-up", challenge, extra: extra));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var (requestId, relayState, request) = SamlTestIdp.ReadRedirect(response.Headers.Location!);
        return (requestId, relayState!, request.DocumentElement!.GetAttribute("ForceAuthn") == "true");
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("prompt=login", true)]
    [InlineData("max_age=600", true)]
    [InlineData("prompt=consent", false)]
    public async Task Sends_ForceAuthn_when_the_client_demands_a_fresh_sign_in(string? extra, bool forceAuthn)
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        Assert.Equal(forceAuthn, (await AuthorizeAsync(flow, extra)).ForceAuthn);
    }

    [Fact]
    public async Task Refuses_prompt_login_answered_with_an_authentication_from_before_the_request()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState, _) = await AuthorizeAsync(flow, "prompt=login");
        var requestedAt = fixture.App.Clock.GetUtcNow();

        var acs = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId) with
        {
            AuthnInstant = requestedAt - Skew - TimeSpan.FromMinutes(1),
        }), relayState);

        var callback = SignInFlow.CallbackParameters(acs);
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("stale_authentication", callback["error_description"]);
        Assert.Equal("state-up", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task Refuses_an_authentication_older_than_max_age()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState, _) = await AuthorizeAsync(flow, "max_age=60");
        var now = fixture.App.Clock.GetUtcNow();

        var acs = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId) with
        {
            AuthnInstant = now - TimeSpan.FromSeconds(60) - Skew - TimeSpan.FromSeconds(5),
        }), relayState);

        Assert.Equal("stale_authentication", SignInFlow.CallbackParameters(acs)["error_description"]);
    }

    [Fact]
    public async Task Signs_in_a_fresh_authentication_and_our_id_token_carries_its_auth_time()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (verifier, challenge) = SignInFlow.NewPkce();
        var response = await flow.Browser.GetAsync(flow.AuthorizeUrl("state-up", challenge, extra: "prompt=login&max_age=120"));
        var (requestId, relayState, _) = SamlTestIdp.ReadRedirect(response.Headers.Location!);
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(20));
        var authnInstant = fixture.App.Clock.GetUtcNow().AddSeconds(-10);

        var acs = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId) with { AuthnInstant = authnInstant }), relayState!);

        var callback = SignInFlow.CallbackParameters(acs);
        Assert.False(callback.ContainsKey("error"), callback.GetValueOrDefault("error_description"));
        var tokens = (await (await flow.RedeemAsync(callback["code"], verifier)).Content.ReadFromJsonAsync<JsonObject>())!;
        var idToken = new JsonWebToken(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(authnInstant.ToUnixTimeSeconds().ToString(), idToken.GetClaim("auth_time").Value);
    }

    [Fact]
    public async Task An_old_authentication_is_fine_when_the_client_demanded_nothing()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState, _) = await AuthorizeAsync(flow, null);

        var acs = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId) with
        {
            AuthnInstant = fixture.App.Clock.GetUtcNow().AddHours(-8),
        }), relayState);

        Assert.True(SignInFlow.CallbackParameters(acs).ContainsKey("code"));
    }
}
