using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using System.Xml;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// Sign-in through a SAML IdP that no one here wrote: samlify (npm) in a Node process reads
/// our AuthnRequest from the HTTP-Redirect binding and signs the Response itself. The
/// connection is set up from the IdP's metadata URL and the IdP from our SP metadata, as an
/// IT admin does it; the test plays the browser (redirects and the IdP's auto-submit form).
/// </summary>
public class ThirdPartyIdpEndToEndTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private const string Nonce = "n-samlify-7Qx";

    [Fact]
    public async Task Signs_in_through_samlify_from_authorize_to_a_validated_id_token_and_userinfo()
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        var connection = await setup.AddConnectionAsync();
        var (verifier, challenge) = SignInFlow.NewPkce();

        var authorize = await setup.Browser.GetAsync(setup.AuthorizeUrl("st/é+1=", challenge, $"login_hint={Uri.EscapeDataString(setup.Email)}"));
        var (form, relayState) = await setup.VisitIdpAsync(authorize, connection);
        var callback = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState));
        Assert.False(callback.ContainsKey("error"), callback.GetValueOrDefault("error_description"));
        Assert.Equal("st/é+1=", callback["state"]);
        Assert.Equal(relayState, form.RelayState);

        var token = await setup.RedeemAsync(callback["code"], verifier);
        Assert.True(token.StatusCode == HttpStatusCode.OK, await token.Content.ReadAsStringAsync());
        var tokens = (await token.Content.ReadFromJsonAsync<JsonObject>())!;

        // Validate as a stock OIDC client does: issuer and keys from discovery, nothing assumed.
        var discovery = (await setup.Browser.GetFromJsonAsync<JsonObject>("/.well-known/openid-configuration"))!;
        var issuer = discovery["issuer"]!.GetValue<string>();
        Assert.Equal("http://localhost", issuer);
        var jwks = new JsonWebKeySet(await setup.Browser.GetStringAsync(new Uri(discovery["jwks_uri"]!.GetValue<string>()).PathAndQuery));
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(tokens["id_token"]!.GetValue<string>(),
            new TokenValidationParameters
            {
                ValidIssuer = issuer,
                ValidAudience = setup.ClientId,
                IssuerSigningKeys = jwks.GetSigningKeys(),
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
                ValidateLifetime = true,
                RequireExpirationTime = true,
                ClockSkew = TimeSpan.Zero,
            });
        Assert.True(validation.IsValid, validation.Exception?.Message);
        var idToken = (JsonWebToken)validation.SecurityToken;
        Assert.Contains(jwks.Keys, k => k.Kid == idToken.Kid);
        Assert.Equal(Nonce, idToken.GetClaim("nonce").Value);
        Assert.Equal(setup.Email, idToken.GetClaim("email").Value);
        Assert.Equal("Grace Hopper", idToken.GetClaim("name").Value);
        Assert.Equal(setup.TenantId, idToken.GetClaim("tenant").Value);
        Assert.Equal(connection.Id, idToken.GetClaim("connection").Value);
        Assert.Equal("admin", idToken.GetClaim("role").Value);
        Assert.Equal(["Engineering", "R&D"], idToken.Claims.Where(c => c.Type == "groups").Select(c => c.Value).Order());

        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        userinfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
        var info = await setup.Browser.SendAsync(userinfo);
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.Equal("application/json", info.Content.Headers.ContentType?.MediaType);
        var profile = (await info.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(idToken.Subject, profile["sub"]!.GetValue<string>());
        Assert.Equal(setup.Email, profile["email"]!.GetValue<string>());
        Assert.Equal("Grace", profile["given_name"]!.GetValue<string>());
        Assert.Equal("Hopper", profile["family_name"]!.GetValue<string>());
        Assert.Equal(setup.TenantId, profile["tenant"]!.GetValue<string>());
        Assert.Equal(connection.Id, profile["connection"]!.GetValue<string>());
        Assert.Equal("admin", profile["role"]!.GetValue<string>());
        Assert.Equal(["Engineering", "R&D"], profile["groups"]!.AsArray().Select(g => g!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task Refuses_an_assertion_samlify_encrypted_with_CBC_when_no_response_signature_covers_it()
    {
        // samlify signs the assertion inside the encryption, so nothing vouches for the CBC ciphertext.
        await using var setup = await Setup.CreateAsync(fixture.App,
            new SamlifyIdpServer.Options(EncryptionAlgorithm: "http://www.w3.org/2001/04/xmlenc#aes128-cbc"));
        var connection = await setup.AddConnectionAsync();
        var patched = await setup.Admin.PatchAsync($"/api/v1/tenants/{setup.TenantId}/connections/{connection.Id}",
            JsonContent.Create(new JsonObject { ["encryptionAlgorithms"] = new JsonArray("aes256-gcm", "aes128-cbc") }));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var (_, challenge) = SignInFlow.NewPkce();
        var (form, _) = await setup.VisitIdpAsync(
            await setup.Browser.GetAsync(setup.AuthorizeUrl("cbc", challenge, $"connection={connection.Id}")), connection);

        var callback = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState));

        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("idp_response_rejected", callback["error_description"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Theory]
    [InlineData("http://www.w3.org/2009/xmlenc11#aes128-gcm")]
    [InlineData("http://www.w3.org/2009/xmlenc11#aes256-gcm")]
    public async Task Signs_in_with_an_assertion_that_samlify_encrypted_to_our_SP_metadata_certificate(string algorithm)
    {
        await using var setup = await Setup.CreateAsync(fixture.App, new SamlifyIdpServer.Options(EncryptionAlgorithm: algorithm));
        var connection = await setup.AddConnectionAsync();
        var (verifier, challenge) = SignInFlow.NewPkce();
        var (form, _) = await setup.VisitIdpAsync(
            await setup.Browser.GetAsync(setup.AuthorizeUrl("enc", challenge, $"connection={connection.Id}")), connection);

        var posted = new XmlDocument { XmlResolver = null };
        posted.LoadXml(Encoding.UTF8.GetString(Convert.FromBase64String(form.SamlResponse)));
        var assertionNs = "urn:oasis:names:tc:SAML:2.0:assertion";
        Assert.Empty(posted.GetElementsByTagName("Assertion", assertionNs));
        var encryptionMethod = (XmlElement)posted.GetElementsByTagName("EncryptionMethod", "http://www.w3.org/2001/04/xmlenc#")[0]!;
        Assert.Equal(algorithm, encryptionMethod.GetAttribute("Algorithm"));

        var callback = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState));
        Assert.False(callback.ContainsKey("error"), callback.GetValueOrDefault("error_description"));
        var token = await setup.RedeemAsync(callback["code"], verifier);
        Assert.True(token.StatusCode == HttpStatusCode.OK, await token.Content.ReadAsStringAsync());
        var idToken = new JsonWebToken((await token.Content.ReadFromJsonAsync<JsonObject>())!["id_token"]!.GetValue<string>());
        Assert.Equal(setup.Email, idToken.GetClaim("email").Value);
        Assert.Equal("admin", idToken.GetClaim("role").Value);
    }

    [Fact]
    public async Task Signs_in_through_samlify_across_an_SP_key_rotation_before_and_after_it_reads_the_new_metadata()
    {
        await using var setup = await Setup.CreateAsync(fixture.App,
            new SamlifyIdpServer.Options(EncryptionAlgorithm: "http://www.w3.org/2009/xmlenc11#aes256-gcm"));
        var connection = await setup.AddConnectionAsync();
        var oldMetadata = await setup.Browser.GetStringAsync($"/saml/metadata/{connection.Id}");
        async Task<Dictionary<string, string>> SignInAsync(string state)
        {
            var (verifier, challenge) = SignInFlow.NewPkce();
            var (form, _) = await setup.VisitIdpAsync(
                await setup.Browser.GetAsync(setup.AuthorizeUrl(state, challenge, $"connection={connection.Id}")), connection);
            Assert.Contains("EncryptedAssertion", Encoding.UTF8.GetString(Convert.FromBase64String(form.SamlResponse)));
            var callback = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState));
            Assert.Equal(state, callback["state"]);
            if (callback.TryGetValue("code", out var code))
                Assert.Equal(HttpStatusCode.OK, (await setup.RedeemAsync(code, verifier)).StatusCode);
            return callback;
        }
        Assert.True((await SignInAsync("before")).ContainsKey("code"));
        var keysPath = $"/api/v1/tenants/{setup.TenantId}/connections/{connection.Id}/sp-keys";
        var oldKeyId = (await setup.Admin.GetFromJsonAsync<JsonObject>(keysPath))!["data"]![0]!["id"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.Created, (await setup.Admin.PostAsync(keysPath + "/rotate", null)).StatusCode);
        // samlify still encrypts to the certificate it was given before the rotation.
        Assert.True((await SignInAsync("during-old-metadata")).ContainsKey("code"));
        // The IT admin uploads the new SP metadata; samlify now encrypts to the new certificate.
        await setup.Idp.RegisterServiceProviderAsync(await setup.Browser.GetStringAsync($"/saml/metadata/{connection.Id}"));
        Assert.True((await SignInAsync("during-new-metadata")).ContainsKey("code"));

        Assert.Equal(HttpStatusCode.NoContent, (await setup.Admin.DeleteAsync($"{keysPath}/{oldKeyId}")).StatusCode);
        Assert.True((await SignInAsync("after")).ContainsKey("code"));
        // An IdP set back to the retired certificate is refused.
        await setup.Idp.RegisterServiceProviderAsync(oldMetadata);
        var refused = await SignInAsync("retired");
        Assert.Equal("access_denied", refused["error"]);
        Assert.False(refused.ContainsKey("code"));
    }

    [Fact]
    public async Task Signs_in_when_samlify_demands_signed_AuthnRequests_and_it_refuses_a_tampered_one()
    {
        await using var setup = await Setup.CreateAsync(fixture.App, new SamlifyIdpServer.Options(WantAuthnRequestsSigned: true));
        var connection = await setup.AddConnectionAsync(new JsonObject
        {
            ["type"] = "saml", ["idpMetadataUrl"] = setup.Idp.MetadataUrl, ["signAuthnRequests"] = true,
        });

        var authorize = await setup.Browser.GetAsync(setup.AuthorizeUrl("signed", SignInFlow.NewPkce().Challenge, $"connection={connection.Id}"));
        var location = authorize.Headers.Location!;
        Assert.Contains("&Signature=", location.OriginalString);
        // samlify checks the redirect signature against the signing certificate in our SP metadata.
        var (form, _) = await setup.VisitIdpAsync(authorize, connection);
        Assert.True(SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState)).ContainsKey("code"));

        // The same request with its RelayState swapped for another: the signature no longer covers it.
        var again = await setup.Browser.GetAsync(setup.AuthorizeUrl("signed-2", SignInFlow.NewPkce().Challenge, $"connection={connection.Id}"));
        var original = again.Headers.Location!.OriginalString;
        var relayState = HttpUtility.ParseQueryString(again.Headers.Location.Query)["RelayState"]!;
        var tampered = new Uri(original.Replace("RelayState=" + Uri.EscapeDataString(relayState), "RelayState=" + Uri.EscapeDataString(relayState + "x")));
        Assert.NotEqual(original, tampered.OriginalString);
        var (status, body) = await setup.Idp.VisitAsync(tampered);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("SIGNATURE", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Refuses_a_replayed_samlify_response_with_an_error_redirect_and_no_code()
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        var connection = await setup.AddConnectionAsync();
        var (form, _) = await setup.VisitIdpAsync(
            await setup.Browser.GetAsync(setup.AuthorizeUrl("first", SignInFlow.NewPkce().Challenge, $"connection={connection.Id}")), connection);
        Assert.True(SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState)).ContainsKey("code"));

        // The same POST again: its RelayState is spent, so there is no trustworthy redirect.
        var again = await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Null(again.Headers.Location);

        // An attacker who captured the response starts a sign-in of their own and posts it with that RelayState.
        var second = await setup.Browser.GetAsync(setup.AuthorizeUrl("second", SignInFlow.NewPkce().Challenge, $"connection={connection.Id}"));
        var secondRelayState = HttpUtility.ParseQueryString(second.Headers.Location!.Query)["RelayState"];
        var replayed = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, secondRelayState));
        Assert.Equal("access_denied", replayed["error"]);
        Assert.Equal("idp_response_rejected", replayed["error_description"]);
        Assert.Equal("second", replayed["state"]);
        Assert.False(replayed.ContainsKey("code"));
    }

    [Fact]
    public async Task Accepts_an_IdP_initiated_samlify_response_once_and_refuses_its_replay()
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        // Unsolicited: no InResponseTo and no RelayState, so only the assertion ID replay cache stops a replay.
        var connection = await setup.AddConnectionAsync(new JsonObject
        {
            ["type"] = "saml",
            ["idpMetadataUrl"] = setup.Idp.MetadataUrl,
            ["idpInitiated"] = new JsonObject
            {
                ["enabled"] = true, ["clientId"] = setup.ClientId, ["redirectUri"] = SignInFlow.RedirectUri,
            },
        });
        var form = await setup.Idp.InitiateAsync(connection.SpEntityId);
        Assert.Equal(connection.AcsUrl, form.Action);
        Assert.Null(form.RelayState);

        var first = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, null));
        Assert.False(first.ContainsKey("error"), first.GetValueOrDefault("error_description"));
        var token = await setup.RedeemAsync(first["code"], verifier: null);
        Assert.True(token.StatusCode == HttpStatusCode.OK, await token.Content.ReadAsStringAsync());
        var idToken = new JsonWebToken((await token.Content.ReadFromJsonAsync<JsonObject>())!["id_token"]!.GetValue<string>());
        Assert.Equal(setup.Email, idToken.GetClaim("email").Value);
        Assert.Equal(connection.Id, idToken.GetClaim("connection").Value);

        var replayed = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, null));
        Assert.Equal("access_denied", replayed["error"]);
        Assert.Equal("idp_response_rejected", replayed["error_description"]);
        Assert.False(replayed.ContainsKey("code"));

        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(3));
        var feed = (await setup.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={setup.TenantId}"))!;
        var failure = feed["data"]!.AsArray().Single(e =>
            e!["type"]!.GetValue<string>() == "sso.login" && e["data"]!["outcome"]!.GetValue<string>() == "failure")!;
        Assert.Equal("Replayed", failure["data"]!["failureKind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refuses_a_samlify_response_meant_for_another_connection()
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        // Two connections of one tenant trusting the same IdP: each has its own SP entity ID and ACS.
        var mine = await setup.AddConnectionAsync();
        var other = await setup.AddConnectionAsync();
        Assert.NotEqual(mine.SpEntityId, other.SpEntityId);
        // With two connections each needs the domains it may assert (issue 18.6).
        foreach (var connection in new[] { mine, other })
            Assert.Equal(HttpStatusCode.OK, (await setup.Admin.PatchAsync($"/api/v1/tenants/{setup.TenantId}/connections/{connection.Id}",
                JsonContent.Create(new JsonObject { ["domains"] = new JsonArray(setup.Domain) }))).StatusCode);

        var myAuthorize = await setup.Browser.GetAsync(setup.AuthorizeUrl("mine", SignInFlow.NewPkce().Challenge, $"connection={mine.Id}"));
        var myRelayState = HttpUtility.ParseQueryString(myAuthorize.Headers.Location!.Query)["RelayState"];
        var (otherForm, _) = await setup.VisitIdpAsync(
            await setup.Browser.GetAsync(setup.AuthorizeUrl("other", SignInFlow.NewPkce().Challenge, $"connection={other.Id}")), other);
        Assert.Equal(other.AcsUrl, otherForm.Action);

        // Genuinely signed by the trusted IdP, but for the other SP (Audience, Recipient,
        // Destination, InResponseTo): posted to our ACS with our own RelayState it is refused.
        var misrouted = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(mine.AcsUrl, otherForm.SamlResponse, myRelayState));
        Assert.Equal("access_denied", misrouted["error"]);
        Assert.Equal("idp_response_rejected", misrouted["error_description"]);
        Assert.Equal("mine", misrouted["state"]);
        Assert.False(misrouted.ContainsKey("code"));

        // Posted to the right ACS with our RelayState: that RelayState belongs to another connection.
        var crossed = await setup.PostToAcsAsync(other.AcsUrl, otherForm.SamlResponse, myRelayState);
        Assert.Equal(HttpStatusCode.BadRequest, crossed.StatusCode);
        Assert.Null(crossed.Headers.Location);

        // Neither refusal spent the other sign-in: the response still completes where it belongs.
        var rightful = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(otherForm.Action, otherForm.SamlResponse, otherForm.RelayState));
        Assert.Equal("other", rightful["state"]);
        Assert.True(rightful.ContainsKey("code"));
    }

    [Fact]
    public async Task Refuses_a_samlify_response_when_the_connection_trusts_another_certificate()
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        // Same IdP entity ID and SSO URL, but the admin pasted someone else's certificate.
        var stranger = SamlTestIdp.CreateCertificate("CN=samlify test IdP");
        var connection = await setup.AddConnectionAsync(new JsonObject
        {
            ["type"] = "saml",
            ["idpEntityId"] = setup.Idp.MetadataUrl,
            ["idpSsoUrl"] = setup.Idp.SsoUrl,
            ["idpCertificates"] = new JsonArray(stranger.ExportCertificatePem()),
        });
        var (form, _) = await setup.VisitIdpAsync(
            await setup.Browser.GetAsync(setup.AuthorizeUrl("st", SignInFlow.NewPkce().Challenge, $"connection={connection.Id}")), connection);

        var callback = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState));
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("st", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task Prompt_login_makes_samlify_authenticate_again_instead_of_reusing_its_session()
    {
        // samlify's user signed in an hour ago; ForceAuthn="true" makes it authenticate now.
        await using var setup = await Setup.CreateAsync(fixture.App, new SamlifyIdpServer.Options(SessionAgeSeconds: 3600));
        var connection = await setup.AddConnectionAsync();
        var (verifier, challenge) = SignInFlow.NewPkce();

        var authorize = await setup.Browser.GetAsync(setup.AuthorizeUrl("st-up", challenge,
            $"login_hint={Uri.EscapeDataString(setup.Email)}&prompt=login"));
        Assert.Equal("true", SamlTestIdp.ReadRedirect(authorize.Headers.Location!).Request.DocumentElement!.GetAttribute("ForceAuthn"));
        var (form, _) = await setup.VisitIdpAsync(authorize, connection);
        var callback = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState));

        Assert.False(callback.ContainsKey("error"), callback.GetValueOrDefault("error_description"));
        Assert.Equal(HttpStatusCode.OK, (await setup.RedeemAsync(callback["code"], verifier)).StatusCode);
    }

    [Fact]
    public async Task Refuses_samlify_answering_prompt_login_from_an_hour_old_session()
    {
        await using var setup = await Setup.CreateAsync(fixture.App, new SamlifyIdpServer.Options(SessionAgeSeconds: 3600, IgnoreForceAuthn: true));
        var connection = await setup.AddConnectionAsync();
        var (_, challenge) = SignInFlow.NewPkce();

        var authorize = await setup.Browser.GetAsync(setup.AuthorizeUrl("st-up", challenge,
            $"login_hint={Uri.EscapeDataString(setup.Email)}&prompt=login"));
        var (form, _) = await setup.VisitIdpAsync(authorize, connection);
        var callback = SignInFlow.CallbackParameters(await setup.PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState));

        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("stale_authentication", callback["error_description"]);
        Assert.Equal("st-up", callback["state"]);
    }

    public sealed record ConnectionView(string Id, string AcsUrl, string SpEntityId);

    /// <summary>A tenant whose users sign in at a fresh samlify IdP, and an OAuth client.</summary>
    private sealed class Setup : SamlifyTestTenant
    {
        private Setup(SsoAppFactory app, SamlifyIdpServer idp, string domain) : base(app, idp, domain, "grace@" + domain) { }

        public static async Task<Setup> CreateAsync(SsoAppFactory app, SamlifyIdpServer.Options? options = null)
        {
            var domain = "samlify" + Guid.NewGuid().ToString("N")[..10] + ".test";
            var idp = await SamlifyIdpServer.StartAsync(new SamlifyIdpServer.User(
                "grace@" + domain, "Grace", "Hopper", ["Engineering", "R&D"]), options);
            var setup = new Setup(app, idp, domain);
            await setup.CreateTenantAndClientAsync("Hopper Labs", new JsonObject
            {
                ["jitProvisioning"] = true,
                ["roles"] = new JsonArray("member", "admin"),
                ["defaultRole"] = "member",
                ["groupRoleMappings"] = new JsonArray(new JsonObject { ["group"] = "Engineering", ["role"] = "admin" }),
            }, new { name = "Product", redirectUris = new[] { SignInFlow.RedirectUri } });
            return setup;
        }

        public async Task<ConnectionView> AddConnectionAsync(JsonObject? body = null)
        {
            var (view, _) = await CreateConnectionAsync(body);
            return new ConnectionView(view["id"]!.GetValue<string>(), view["acsUrl"]!.GetValue<string>(), view["spEntityId"]!.GetValue<string>());
        }

        public string AuthorizeUrl(string state, string challenge, string routing) =>
            new StringBuilder("/oauth/authorize?response_type=code&scope=openid%20email%20profile")
                .Append("&client_id=").Append(Uri.EscapeDataString(ClientId))
                .Append("&redirect_uri=").Append(Uri.EscapeDataString(SignInFlow.RedirectUri))
                .Append("&state=").Append(Uri.EscapeDataString(state))
                .Append("&nonce=").Append(Nonce)
                .Append("&code_challenge=").Append(challenge).Append("&code_challenge_method=S256")
                .Append('&').Append(routing)
                .ToString();

        /// <summary>Our redirect to the IdP, the IdP's answer; checks the AuthnRequest on the way.</summary>
        public async Task<(SamlifyIdpServer.PostedForm Form, string RelayState)> VisitIdpAsync(
            HttpResponseMessage authorize, ConnectionView connection)
        {
            Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
            var location = authorize.Headers.Location!;
            var (requestId, relayState, request) = SamlTestIdp.ReadRedirect(location);
            Assert.Equal(connection.SpEntityId, request.DocumentElement!["Issuer", "urn:oasis:names:tc:SAML:2.0:assertion"]!.InnerText);

            var form = await Idp.SignInAsync(location);
            Assert.Equal(connection.AcsUrl, form.Action);
            Assert.Equal(relayState, form.RelayState);
            // The Response is samlify's own, answering our request.
            var response = new XmlDocument { XmlResolver = null };
            response.LoadXml(Encoding.UTF8.GetString(Convert.FromBase64String(form.SamlResponse)));
            Assert.Equal(requestId, response.DocumentElement!.GetAttribute("InResponseTo"));
            Assert.Equal(Idp.MetadataUrl, response.DocumentElement["Issuer", "urn:oasis:names:tc:SAML:2.0:assertion"]!.InnerText);
            return (form, relayState!);
        }
    }
}
