using System.Net;
using System.Text.Json.Nodes;
using System.Web;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

public class AuthorizeEndpointTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    private static void AssertPageWithoutRedirect(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Headers.Location);
    }

    [Theory]
    [InlineData("https://app.example.test/callback/")]
    [InlineData("https://app.example.test/callback?x=1")]
    [InlineData("https://APP.example.test/callback")]
    [InlineData("https://evil.example/callback")]
    [InlineData("")]
    public async Task Refuses_a_redirect_uri_that_is_not_an_exact_registered_match_with_a_page(string redirectUri)
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var url = flow.AuthorizeUrl("s", SignInFlow.NewPkce().Challenge)
            .Replace("redirect_uri=" + Uri.EscapeDataString(SignInFlow.RedirectUri), "redirect_uri=" + Uri.EscapeDataString(redirectUri));
        AssertPageWithoutRedirect(await flow.Browser.GetAsync(url));
    }

    [Fact]
    public async Task Refuses_an_unknown_client_with_a_page()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var url = flow.AuthorizeUrl("s", null).Replace(flow.ClientId, "cli_00000000000000000000000000");
        AssertPageWithoutRedirect(await flow.Browser.GetAsync(url));
    }

    [Theory]
    [InlineData("code_challenge_method=plain", "invalid_request")]
    [InlineData("code_challenge_method=S256", "invalid_request")]
    public async Task Refuses_PKCE_other_than_S256_with_an_error_redirect_carrying_state(string extra, string error)
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var url = flow.AuthorizeUrl("st8", null) + "&code_challenge=" + (extra.EndsWith("plain") ? new string('a', 43) : "short") + "&" + extra;
        var callback = SignInFlow.CallbackParameters(await flow.Browser.GetAsync(url));
        Assert.Equal(error, callback["error"]);
        Assert.Equal("st8", callback["state"]);
    }

    [Fact]
    public async Task Refuses_response_type_token_with_an_error_redirect()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var url = flow.AuthorizeUrl("st", null).Replace("response_type=code", "response_type=token");
        var callback = SignInFlow.CallbackParameters(await flow.Browser.GetAsync(url));
        Assert.Equal("unsupported_response_type", callback["error"]);
        Assert.Equal("st", callback["state"]);
        Assert.Equal("http://localhost", callback["iss"]);
    }

    [Fact]
    public async Task Ignores_parameters_it_does_not_know()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var response = await flow.Browser.GetAsync(flow.AuthorizeUrl("s", SignInFlow.NewPkce().Challenge,
            extra: "x-client-SKU=ID_NET8_0&x-client-ver=8.0.0.0&foo=bar"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(SamlTestIdp.SsoUrl, response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Routes_by_tenant_and_by_connection()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        foreach (var routing in new[] { "tenant=" + flow.TenantId, "connection=" + flow.ConnectionId })
        {
            var url = flow.AuthorizeUrl("s", null).Replace("login_hint=" + Uri.EscapeDataString(flow.Email), routing);
            var response = await flow.Browser.GetAsync(url);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith(SamlTestIdp.SsoUrl, response.Headers.Location!.ToString());
        }
    }

    [Fact]
    public async Task Serves_a_work_email_page_without_a_routing_hint_that_sends_the_request_back_with_login_hint()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var url = flow.AuthorizeUrl("st<ate>", null).Replace("&login_hint=" + Uri.EscapeDataString(flow.Email), "");
        var response = await flow.Browser.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("name=\"login_hint\"", html);
        Assert.Contains("action=\"/oauth/authorize\"", html);
        Assert.Contains("value=\"st&lt;ate&gt;\"", html);
        Assert.DoesNotContain("st<ate>", html);

        // What the form submits (the hidden fields plus the email) starts the SAML sign-in.
        var routed = await flow.Browser.GetAsync(url + "&login_hint=" + Uri.EscapeDataString(flow.Email));
        Assert.StartsWith(SamlTestIdp.SsoUrl, routed.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Shows_the_email_page_again_for_a_domain_without_sso()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var response = await flow.Browser.GetAsync(flow.AuthorizeUrl("s", null, loginHint: "bob@nobody-here.test"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("not set up", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Refuses_an_unknown_connection_with_an_error_redirect()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var url = flow.AuthorizeUrl("s9", null).Replace("login_hint=" + Uri.EscapeDataString(flow.Email), "connection=con_nope");
        var callback = SignInFlow.CallbackParameters(await flow.Browser.GetAsync(url));
        Assert.Equal("invalid_request", callback["error"]);
        Assert.Equal("s9", callback["state"]);
    }

    [Fact]
    public async Task Answers_with_an_auto_submitting_form_in_form_post_mode()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (verifier, challenge) = SignInFlow.NewPkce();
        var (requestId, relayState) = await flow.StartAsync("fp-state", challenge, extra: "response_mode=form_post");
        var acs = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState);
        Assert.Equal(HttpStatusCode.OK, acs.StatusCode);
        var html = await acs.Content.ReadAsStringAsync();
        Assert.Contains($"action=\"{SignInFlow.RedirectUri}\"", html);
        Assert.Contains("name=\"state\" value=\"fp-state\"", html);
        var code = System.Text.RegularExpressions.Regex.Match(html, "name=\"code\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.Equal(HttpStatusCode.OK, (await flow.RedeemAsync(HttpUtility.HtmlDecode(code), verifier)).StatusCode);
    }

    [Fact]
    public async Task Accepts_a_confidential_client_without_PKCE()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("np", null);
        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
        Assert.Equal(HttpStatusCode.OK, (await flow.RedeemAsync(callback["code"], null)).StatusCode);
    }

    [Fact]
    public async Task Refuses_a_verifier_when_no_challenge_was_sent()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("np", null);
        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
        Assert.Equal(HttpStatusCode.BadRequest, (await flow.RedeemAsync(callback["code"], SignInFlow.NewPkce().Verifier)).StatusCode);
    }
}
