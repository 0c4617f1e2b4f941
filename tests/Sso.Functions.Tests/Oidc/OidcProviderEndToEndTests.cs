using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Testing;

namespace Sso.Functions.Tests.Oidc;

/// <summary>
/// The whole OIDC sign-in against npm oidc-provider on loopback: the SaaS app's
/// <c>/oauth/authorize?connection=…</c>, the provider's own login and consent pages, our
/// <c>/oidc/callback</c>, the SaaS app's code at <c>/oauth/token</c>, and the id_token (checked
/// against our JWKS) and <c>/oauth/userinfo</c> the SaaS app ends with.
/// </summary>
public partial class OidcProviderEndToEndTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private const string RpClientId = "serverless-sso-rp";
    private readonly OidcTestFlow _flow = new(fixture.App);

    private sealed record SignIn(string ClientId, string ClientSecret, string CodeVerifier, string Nonce, string Domain, Uri Final);

    [Theory]
    [InlineData("client_secret_basic")]
    [InlineData("client_secret_post")]
    public async Task Signs_in_through_oidc_provider_to_a_validated_id_token_and_userinfo(string authMethod)
    {
        var rpSecret = "rp-secret-" + Guid.NewGuid().ToString("N");
        var domain = OidcTestFlow.UniqueDomain();
        await using var op = await OidcProviderPeer.StartAsync(RpClientId, rpSecret, "http://localhost/oidc/callback", domain, authMethod);

        var signIn = await SignInAsync(op, rpSecret, domain);

        Assert.StartsWith(OidcTestFlow.ClientRedirectUri + "?", signIn.Final.AbsoluteUri);
        Assert.Equal("saas-state-42", OidcTestFlow.Param(signIn.Final, "state"));
        Assert.Null(OidcTestFlow.ParamOrNull(signIn.Final, "error"));
        var code = OidcTestFlow.Param(signIn.Final, "code");
        Assert.NotEmpty(code);

        var tokens = await RedeemAsync(signIn, code);
        Assert.Equal(HttpStatusCode.OK, tokens.StatusCode);
        var body = (await tokens.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("Bearer", body["token_type"]!.GetValue<string>());

        // The SaaS app's side: the id_token verifies against our published keys and says who signed in.
        var jwks = new JsonWebKeySet(await _flow.Browser.GetStringAsync("/oauth/jwks"));
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(body["id_token"]!.GetValue<string>(), new TokenValidationParameters
        {
            ValidIssuer = "http://localhost",
            ValidAudience = signIn.ClientId,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = ["RS256"],
        });
        Assert.True(validation.IsValid, validation.Exception?.Message);
        var idToken = (JsonWebToken)validation.SecurityToken;
        Assert.Equal(signIn.Nonce, idToken.GetClaim("nonce").Value);
        Assert.Equal($"alice@{domain}", idToken.GetClaim("email").Value);
        Assert.Equal("Alice Liddell", idToken.GetClaim("name").Value);
        // oidc-provider verified the address, but the tenant has not proven its domain by DNS.
        Assert.Equal("false", idToken.GetClaim("email_verified").Value);

        using var userInfoRequest = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        userInfoRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", body["access_token"]!.GetValue<string>());
        var userInfo = await _flow.Browser.SendAsync(userInfoRequest);
        Assert.Equal(HttpStatusCode.OK, userInfo.StatusCode);
        var claims = (await userInfo.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(idToken.Subject, claims["sub"]!.GetValue<string>());
        Assert.Equal($"alice@{domain}", claims["email"]!.GetValue<string>());
        // oidc-provider puts email and name only in its UserInfo (conformIdTokenClaims): they came from there.
        Assert.Equal("alice", claims["idp"]!["sub"]!.GetValue<string>());

        // The code is single use.
        Assert.Equal(HttpStatusCode.BadRequest, (await RedeemAsync(signIn, code)).StatusCode);

        // The same policies and events as SAML: one sso.login for this connection, a success
        // (the feed shows events once they are 2 s old).
        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(3));
        var events = (await _flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={_tenantId}"))!["data"]!.AsArray();
        var login = Assert.Single(events, e => e!["type"]!.GetValue<string>() == "sso.login");
        Assert.Equal(_connectionId, login!["connectionId"]!.GetValue<string>());
        Assert.Equal("success", login["data"]!["outcome"]!.GetValue<string>());
        Assert.DoesNotContain(domain, events.ToJsonString());
    }

    [Fact]
    public async Task Refuses_a_replayed_oidc_provider_code_under_a_fresh_state()
    {
        var rpSecret = "rp-secret-" + Guid.NewGuid().ToString("N");
        var domain = OidcTestFlow.UniqueDomain();
        await using var op = await OidcProviderPeer.StartAsync(RpClientId, rpSecret, "http://localhost/oidc/callback", domain);
        Uri? callback = null;
        var first = await SignInAsync(op, rpSecret, domain, seen => callback ??= seen);
        Assert.NotEmpty(OidcTestFlow.Param(first.Final, "code"));

        // A second sign-in, then its callback carries the first (already redeemed) IdP code.
        var second = await StartAtAuthorizeAsync(first.ClientId, first.Domain, op.Issuer, rpSecret, reuseTenantConnection: first);
        var idpUrl = second.Headers.Location!;
        var state = OidcTestFlow.Param(idpUrl, "state");
        var replay = await _flow.CallbackAsync(
            $"code={Uri.EscapeDataString(OidcTestFlow.Param(callback!, "code"))}&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(op.Issuer)}");

        OidcTestFlow.AssertErrorRedirect(replay, "access_denied", "idp_response_rejected", "saas-state-42");
    }

    [Fact]
    public async Task Sends_a_cancelled_login_back_to_the_client_as_access_denied_with_its_state()
    {
        var rpSecret = "rp-secret-" + Guid.NewGuid().ToString("N");
        var domain = OidcTestFlow.UniqueDomain();
        await using var op = await OidcProviderPeer.StartAsync(RpClientId, rpSecret, "http://localhost/oidc/callback", domain);

        var signIn = await SignInAsync(op, rpSecret, domain, abort: true);

        Assert.Equal("access_denied", OidcTestFlow.Param(signIn.Final, "error"));
        Assert.Equal("idp_error", OidcTestFlow.Param(signIn.Final, "error_description"));
        Assert.Equal("saas-state-42", OidcTestFlow.Param(signIn.Final, "state"));
        Assert.Null(OidcTestFlow.ParamOrNull(signIn.Final, "code"));
    }

    private string? _tenantId;
    private string? _connectionId;
    private JsonObject? _connectionPatch;
    private Func<Task>? _beforeAuthorize;
    private string? _authorizeExtra;

    private async Task<HttpResponseMessage> StartAtAuthorizeAsync(string clientId, string domain, string issuer, string rpSecret,
        SignIn? reuseTenantConnection = null, string? codeVerifier = null, string? nonce = null)
    {
        if (reuseTenantConnection is null)
        {
            _tenantId = await _flow.CreateTenantAsync(domain);
            _connectionId = (await _flow.CreateConnectionAsync(_tenantId, issuer, RpClientId, rpSecret))["id"]!.GetValue<string>();
            if (_connectionPatch is not null)
            {
                var patched = await _flow.Admin.PatchAsync($"/api/v1/tenants/{_tenantId}/connections/{_connectionId}", JsonContent.Create(_connectionPatch));
                Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
            }
            if (_beforeAuthorize is not null) await _beforeAuthorize();
        }
        codeVerifier ??= "v-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        var challenge = System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(codeVerifier)));
        var query = string.Join("&", new Dictionary<string, string>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = OidcTestFlow.ClientRedirectUri,
            ["scope"] = "openid email profile",
            ["state"] = "saas-state-42",
            ["nonce"] = nonce ?? "saas-nonce",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = "S256",
            ["connection"] = _connectionId!,
        }.Select(p => p.Key + "=" + Uri.EscapeDataString(p.Value))) + (_authorizeExtra is null ? "" : "&" + _authorizeExtra);
        var response = await _flow.Browser.GetAsync("/oauth/authorize?" + query);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        Assert.StartsWith(issuer + "/", response.Headers.Location!.AbsoluteUri);
        return response;
    }

    /// <summary>Plays the browser: our app in-process, oidc-provider over loopback, its login and consent forms.</summary>
    private async Task<SignIn> SignInAsync(OidcProviderPeer op, string rpSecret, string domain, Action<Uri>? onCallback = null, bool abort = false)
    {
        var (clientId, clientSecret) = await _flow.CreateClientAsync();
        var codeVerifier = "v-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        var nonce = "saas-nonce-" + Guid.NewGuid().ToString("N");
        var authorize = await StartAtAuthorizeAsync(clientId, domain, op.Issuer, rpSecret, codeVerifier: codeVerifier, nonce: nonce);

        using var idp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() });
        var next = authorize.Headers.Location!;
        for (var step = 0; step < 20; step++)
        {
            if (next.AbsoluteUri.StartsWith(OidcTestFlow.ClientRedirectUri, StringComparison.Ordinal))
                return new SignIn(clientId, clientSecret, codeVerifier, nonce, domain, next);
            HttpResponseMessage response;
            if (next.Host == "localhost")
            {
                onCallback?.Invoke(next);
                response = await _flow.Browser.GetAsync(next.PathAndQuery);
            }
            else
            {
                response = await idp.GetAsync(next);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var html = await response.Content.ReadAsStringAsync();
                    var action = WebUtility.HtmlDecode(FormAction().Match(html).Groups[1].Value);
                    var prompt = PromptField().Match(html).Groups[1].Value;
                    Assert.True(action.Length > 0 && prompt.Length > 0, "oidc-provider served no form: " + html[..Math.Min(html.Length, 500)]);
                    if (abort)
                    {
                        response = await idp.GetAsync(new Uri(new Uri(action), new Uri(action).AbsolutePath + "/abort"));
                    }
                    else
                    {
                        var fields = new Dictionary<string, string> { ["prompt"] = prompt };
                        if (prompt == "login") (fields["login"], fields["password"]) = ("alice", "any password");
                        response = await idp.PostAsync(new Uri(action), new FormUrlEncodedContent(fields));
                    }
                }
            }
            Assert.True((int)response.StatusCode is 302 or 303, $"{next} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            next = new Uri(next, response.Headers.Location!);
        }
        throw new InvalidOperationException("The sign-in did not come back to the client within 20 redirects.");
    }

    private async Task<HttpResponseMessage> RedeemAsync(SignIn signIn, string code) =>
        await _flow.Browser.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = OidcTestFlow.ClientRedirectUri,
            ["client_id"] = signIn.ClientId,
            ["client_secret"] = signIn.ClientSecret,
            ["code_verifier"] = signIn.CodeVerifier,
        }));

    [GeneratedRegex("<form[^>]*action=\"([^\"]+)\"")]
    private static partial Regex FormAction();

    [GeneratedRegex("name=\"prompt\" value=\"([a-z]+)\"")]
    private static partial Regex PromptField();
}
