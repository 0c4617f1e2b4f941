using System.Security.Cryptography.X509Certificates;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

public class SamlSignInTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    [Fact]
    public async Task Says_email_verified_false_for_an_address_of_a_domain_the_tenant_has_not_proven()
    {
        // SAML has no email_verified: the IdP asserts an attribute. What we vouch for is the domain.
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();

        var tokens = (await (await flow.RedeemAsync(code, verifier)).Content.ReadFromJsonAsync<JsonObject>())!;

        var idToken = new JsonWebToken(tokens["id_token"]!.GetValue<string>());
        Assert.Equal(flow.Email, idToken.GetClaim("email").Value);
        Assert.Equal("false", idToken.GetClaim("email_verified").Value);
        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        userinfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
        var claims = (await (await flow.Browser.SendAsync(userinfo)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.False(claims["email_verified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Signs_in_from_authorize_through_the_ACS_to_a_validated_id_token_and_userinfo()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject
        {
            ["jitProvisioning"] = true,
            ["roles"] = new JsonArray("member", "admin"),
            ["groupRoleMappings"] = new JsonArray(new JsonObject { ["group"] = "Engineering", ["role"] = "admin" }),
        });
        // Our id_token vouches for the email (email_verified) only when the tenant proved its domain by DNS.
        var tenants = fixture.App.Get<Sso.Functions.Tenants.TenantStore>();
        var claim = (await tenants.FindClaimAsync(flow.Domain, default))!;
        await tenants.SaveClaimAsync(claim, claim with { Status = Sso.Functions.Tenants.DomainStatus.Verified, VerifiedAt = fixture.App.Clock.GetUtcNow() }, default);
        var (code, verifier) = await flow.SignInAsync("xyz/ABC+1=");

        var token = await flow.RedeemAsync(code, verifier);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Equal("no-store", token.Headers.CacheControl?.ToString());
        var tokens = (await token.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("Bearer", tokens["token_type"]!.GetValue<string>());
        Assert.True(tokens["expires_in"]!.GetValue<long>() > 0);

        var jwks = new JsonWebKeySet(await flow.Browser.GetStringAsync("/oauth/jwks"));
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(tokens["id_token"]!.GetValue<string>(),
            new TokenValidationParameters
            {
                ValidIssuer = "http://localhost",
                ValidAudience = flow.ClientId,
                IssuerSigningKeys = jwks.GetSigningKeys(),
                ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
                LifetimeValidator = (_, expires, _, _) => expires > fixture.App.Clock.GetUtcNow().UtcDateTime,
            });
        Assert.True(validation.IsValid, validation.Exception?.Message);
        var idToken = (JsonWebToken)validation.SecurityToken;
        Assert.Contains(jwks.Keys, k => k.Kid == idToken.Kid);
        Assert.Equal("n-0S6_WzA2Mj", idToken.GetClaim("nonce").Value);
        Assert.Equal(flow.Email, idToken.GetClaim("email").Value);
        Assert.Equal("true", idToken.GetClaim("email_verified").Value);
        Assert.Equal(flow.TenantId, idToken.GetClaim("tenant").Value);
        Assert.Equal(flow.ConnectionId, idToken.GetClaim("connection").Value);
        Assert.Equal("admin", idToken.GetClaim("role").Value);
        Assert.Equal("Alice Archer", idToken.GetClaim("name").Value);
        Assert.True(idToken.TryGetClaim("auth_time", out _));
        Assert.True(idToken.TryGetClaim("iat", out _));
        Assert.Contains(idToken.Claims, c => c.Type == "groups" && c.Value == "engineering");

        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        userinfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
        var info = await flow.Browser.SendAsync(userinfo);
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.Equal("application/json", info.Content.Headers.ContentType?.MediaType);
        var profile = (await info.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(idToken.Subject, profile["sub"]!.GetValue<string>());
        Assert.Equal(flow.Email, profile["email"]!.GetValue<string>());
        Assert.Equal("Alice", profile["given_name"]!.GetValue<string>());
        Assert.Equal("Archer", profile["family_name"]!.GetValue<string>());
        Assert.Equal(flow.TenantId, profile["tenant"]!.GetValue<string>());
        Assert.Equal("admin", profile["role"]!.GetValue<string>());
        Assert.Equal("engineering", profile["idp"]!["groups"]![0]!.GetValue<string>());

        // The sign-in left one success event in the tenant's feed, with ids and no email.
        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(3));
        var feed = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={flow.TenantId}"))!;
        var login = feed["data"]!.AsArray().Single(e => e!["type"]!.GetValue<string>() == "sso.login")!;
        Assert.Equal(flow.ConnectionId, login["connectionId"]!.GetValue<string>());
        Assert.Equal("success", login["data"]!["outcome"]!.GetValue<string>());
        Assert.Equal(idToken.Subject, login["data"]!["sub"]!.GetValue<string>());
        Assert.DoesNotContain(flow.Email, feed.ToJsonString());
    }

    [Fact]
    public async Task Records_a_refused_sign_in_as_a_failed_sso_login_with_its_reason()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("st", null);
        var forged = flow.Idp.SignedResponse(flow.Assertion(requestId), signWith: SamlTestIdp.CreateCertificate("CN=x"));
        await flow.PostAcsAsync(forged, relayState);

        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(3));
        var feed = (await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={flow.TenantId}"))!;
        var login = feed["data"]!.AsArray().Single(e => e!["type"]!.GetValue<string>() == "sso.login")!;
        Assert.Equal("failure", login["data"]!["outcome"]!.GetValue<string>());
        Assert.Equal("idp_response_rejected", login["data"]!["reason"]!.GetValue<string>());
        Assert.Equal("UntrustedCertificate", login["data"]!["failureKind"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_sub_is_the_same_for_the_same_user_on_every_sign_in()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        async Task<string> SubAsync()
        {
            var (code, verifier) = await flow.SignInAsync();
            var tokens = (await (await flow.RedeemAsync(code, verifier)).Content.ReadFromJsonAsync<JsonObject>())!;
            return new JsonWebToken(tokens["id_token"]!.GetValue<string>()).Subject;
        }
        Assert.Equal(await SubAsync(), await SubAsync());
    }

    [Fact]
    public async Task Sends_the_AuthnRequest_with_its_issuer_acs_and_a_short_relay_state()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var response = await flow.Browser.GetAsync(flow.AuthorizeUrl("s", SignInFlow.NewPkce().Challenge));
        var (requestId, relayState, request) = SamlTestIdp.ReadRedirect(response.Headers.Location!);
        Assert.StartsWith("_", requestId);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(relayState!) <= 80);
        Assert.Equal(flow.AcsUrl, request.DocumentElement!.GetAttribute("AssertionConsumerServiceURL"));
        Assert.Equal(SamlTestIdp.SsoUrl, request.DocumentElement.GetAttribute("Destination"));
        Assert.Equal(flow.SpEntityId, request.DocumentElement["Issuer", "urn:oasis:names:tc:SAML:2.0:assertion"]!.InnerText);
    }

    [Fact]
    public async Task Refuses_a_response_signed_by_another_key_with_an_error_redirect_and_no_code()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("st-1", SignInFlow.NewPkce().Challenge);
        var forged = flow.Idp.SignedResponse(flow.Assertion(requestId), signWith: SamlTestIdp.CreateCertificate("CN=Functions test IdP"));

        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(forged, relayState));
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("idp_response_rejected", callback["error_description"]);
        Assert.Equal("st-1", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task Parses_the_IdP_certificates_once_per_cached_connection_and_takes_a_rotated_one_at_once()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var connections = flow.App.Get<Sso.Functions.Connections.ConnectionStore>();
        var id = new Sso.Functions.Connections.ConnectionId(flow.ConnectionId);
        Assert.Same(Sso.Functions.Saml.SamlConnectionSetup.SharedIdpCertificates((await connections.FindCachedByIdAsync(id, default))!)[0],
            Sso.Functions.Saml.SamlConnectionSetup.SharedIdpCertificates((await connections.FindCachedByIdAsync(id, default))!)[0]);
        var (firstRequest, firstRelayState) = await flow.StartAsync("before", SignInFlow.NewPkce().Challenge);
        Assert.True(SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(firstRequest)), firstRelayState))
            .ContainsKey("code"));

        // The IdP rotates its key: the next sign-in on this instance checks against the new certificate only.
        var rotated = SamlTestIdp.CreateCertificate("CN=Rotated test IdP");
        var patch = await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}",
            JsonContent.Create(new JsonObject { ["idpCertificates"] = new JsonArray(rotated.ExportCertificatePem()) }));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var (oldKeyRequest, oldKeyRelayState) = await flow.StartAsync("old-key", SignInFlow.NewPkce().Challenge);
        Assert.Equal("access_denied", SignInFlow.CallbackParameters(
            await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(oldKeyRequest)), oldKeyRelayState))["error"]);
        var (newKeyRequest, newKeyRelayState) = await flow.StartAsync("new-key", SignInFlow.NewPkce().Challenge);
        Assert.True(SignInFlow.CallbackParameters(
            await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(newKeyRequest), signWith: rotated), newKeyRelayState)).ContainsKey("code"));
    }

    [Fact]
    public async Task Refuses_a_replayed_assertion()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("first", SignInFlow.NewPkce().Challenge);
        var response = flow.Idp.SignedResponse(flow.Assertion(requestId));
        Assert.True(SignInFlow.CallbackParameters(await flow.PostAcsAsync(response, relayState)).ContainsKey("code"));

        // The attacker starts a sign-in of their own and posts the captured assertion with its RelayState.
        var (_, secondRelayState) = await flow.StartAsync("second", SignInFlow.NewPkce().Challenge);
        var replayed = SignInFlow.CallbackParameters(await flow.PostAcsAsync(response, secondRelayState));
        Assert.Equal("access_denied", replayed["error"]);
        Assert.Equal("second", replayed["state"]);
        Assert.False(replayed.ContainsKey("code"));
    }

    [Fact]
    public async Task Completes_exactly_one_of_parallel_posts_of_one_response_and_RelayState()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("double", SignInFlow.NewPkce().Challenge);
        var response = flow.Idp.SignedResponse(flow.Assertion(requestId));

        // A browser's double submit (or an attacker racing the user): the pending sign-in's removal picks one.
        var posts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => flow.PostAcsAsync(response, relayState)));

        var completed = Assert.Single(posts, p => p.StatusCode == HttpStatusCode.Redirect);
        Assert.True(SignInFlow.CallbackParameters(completed).ContainsKey("code"));
        Assert.All(posts.Where(p => p != completed), p =>
        {
            Assert.Equal(HttpStatusCode.BadRequest, p.StatusCode);
            Assert.Null(p.Headers.Location);
        });
    }

    [Fact]
    public async Task Refuses_a_RelayState_that_was_already_used_with_the_400_page()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("s", SignInFlow.NewPkce().Challenge);
        Assert.Equal(HttpStatusCode.Redirect, (await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState)).StatusCode);

        var again = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal("text/html", again.Content.Headers.ContentType?.MediaType);
        Assert.Null(again.Headers.Location);
    }

    [Fact]
    public async Task Refuses_a_response_to_another_AuthnRequest()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (_, relayState) = await flow.StartAsync("s-irt", SignInFlow.NewPkce().Challenge);
        var callback = SignInFlow.CallbackParameters(
            await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion("_someOtherRequest")), relayState));
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("s-irt", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task Refuses_a_RelayState_of_another_connection_without_consuming_it()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var other = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("s", SignInFlow.NewPkce().Challenge);

        var wrong = await other.PostAcsAsync(other.Idp.SignedResponse(other.Assertion(requestId)), relayState);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Null(wrong.Headers.Location);

        var right = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState);
        Assert.True(SignInFlow.CallbackParameters(right).ContainsKey("code"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-handle")]
    public async Task Refuses_an_unsolicited_response_by_default(string? relayState)
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var response = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(null)), relayState);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Accepts_an_IdP_initiated_response_when_the_connection_opts_in()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var patch = await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}",
            JsonContent.Create(new JsonObject
            {
                ["idpInitiated"] = new JsonObject { ["enabled"] = true, ["clientId"] = flow.ClientId, ["redirectUri"] = SignInFlow.RedirectUri },
            }));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(null)), null));
        var token = await flow.RedeemAsync(callback["code"], null);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
    }

    [Fact]
    public async Task Answers_a_garbage_SAMLResponse_with_an_error_redirect_not_a_500()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (_, relayState) = await flow.StartAsync("g", SignInFlow.NewPkce().Challenge);
        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync("%%%not base64", relayState));
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("g", callback["state"]);
    }

    [Fact]
    public async Task Answers_an_ACS_post_to_an_unknown_connection_with_the_400_page()
    {
        var response = await fixture.App.CreateAnonymousClient().PostAsync("/saml/acs/con_00000000000000000000000000",
            new FormUrlEncodedContent([new("SAMLResponse", "x")]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Serves_SP_metadata_with_entity_id_acs_and_certificates()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var response = await flow.Browser.GetAsync($"/saml/metadata/{flow.ConnectionId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var xml = await response.Content.ReadAsStringAsync();
        Assert.Contains($"entityID=\"{flow.SpEntityId}\"", xml);
        Assert.Contains($"Location=\"{flow.AcsUrl}\"", xml);
        Assert.Contains("use=\"signing\"", xml);
        Assert.Contains("use=\"encryption\"", xml);
        Assert.DoesNotContain("PRIVATE", xml);
    }
}

public class SamlAuthnRequestBindingTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task Posts_the_AuthnRequest_when_the_IdP_offers_only_HTTP_POST()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new System.Text.Json.Nodes.JsonObject { ["jitProvisioning"] = true });
        var patched = await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}",
            JsonContent.Create(new JsonObject { ["idpMetadataXml"] = flow.Idp.MetadataXml("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST") }));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);

        var response = await flow.Browser.GetAsync(flow.AuthorizeUrl("post-state", null));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains($"action=\"{SamlTestIdp.SsoUrl}\"", html);
        Assert.Contains("name=\"SAMLRequest\"", html);
        // A browser may run the page's one submit script and post to the IdP's origin, and nothing else.
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains($"form-action {new Uri(SamlTestIdp.SsoUrl).GetLeftPart(UriPartial.Authority)} 'self';", policy);
        Assert.Contains($"script-src {Sso.Protocols.Saml.SamlPostBinding.ScriptHashSource};", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        Assert.Contains($"<script>{Sso.Protocols.Saml.SamlPostBinding.SubmitScript}</script>", html);
        Assert.Contains("<button type=\"submit\">Continue</button>", html);
        var relayState = System.Text.RegularExpressions.Regex.Match(html, "name=\"RelayState\" value=\"([^\"]+)\"").Groups[1].Value;
        var samlRequest = System.Text.RegularExpressions.Regex.Match(html, "name=\"SAMLRequest\" value=\"([^\"]+)\"").Groups[1].Value;
        var request = new System.Xml.XmlDocument();
        request.LoadXml(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(samlRequest)));
        var requestId = request.DocumentElement!.GetAttribute("ID");

        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
        Assert.True(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task Signs_the_redirect_AuthnRequest_with_the_key_published_in_SP_metadata_when_asked()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true },
            new JsonObject { ["signAuthnRequests"] = true });
        var response = await flow.Browser.GetAsync(flow.AuthorizeUrl("s", null));
        var location = response.Headers.Location!.ToString();
        var query = location[(location.IndexOf('?') + 1)..];
        var signatureAt = query.IndexOf("&Signature=", StringComparison.Ordinal);
        Assert.True(signatureAt > 0);
        var signedOctets = System.Text.Encoding.UTF8.GetBytes(query[..signatureAt]);
        var signature = Convert.FromBase64String(Uri.UnescapeDataString(query[(signatureAt + "&Signature=".Length)..]));
        Assert.Contains("SigAlg=" + Uri.EscapeDataString("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"), query);

        var metadata = new System.Xml.XmlDocument();
        metadata.LoadXml(await flow.Browser.GetStringAsync($"/saml/metadata/{flow.ConnectionId}"));
        var certificateText = metadata.GetElementsByTagName("X509Certificate", "http://www.w3.org/2000/09/xmldsig#")[0]!.InnerText;
        using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(Convert.FromBase64String(certificateText));
        Assert.True(certificate.GetRSAPublicKey()!.VerifyData(signedOctets, signature,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1));
        Assert.Contains("AuthnRequestsSigned=\"true\"", metadata.OuterXml);
    }
}

public class SamlExpiredSignInTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task Sends_sign_in_expired_back_with_state_when_the_IdP_answers_too_late()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var (requestId, relayState) = await flow.StartAsync("late", null);
        fixture.App.Clock.Advance(Sso.Functions.OAuth.PendingSignIn.Lifetime + TimeSpan.FromSeconds(1));
        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("sign_in_expired", callback["error_description"]);
        Assert.Equal("late", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }
}
