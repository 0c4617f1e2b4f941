using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using System.Xml;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// Logout both ways against samlify, an IdP no one here wrote: RP-initiated logout at
/// <c>/oauth/logout</c> sends a signed LogoutRequest that samlify verifies and answers, and
/// samlify's own LogoutRequests (HTTP-Redirect and HTTP-POST) end the user's tokens here and get
/// a signed LogoutResponse that samlify verifies. The test plays the browser.
/// </summary>
public class SingleLogoutEndToEndTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    internal const string SignedOutUri = "https://app.example.test/signed-out";

    [Fact]
    public async Task RP_logout_ends_the_session_at_once_and_completes_SAML_SLO_at_samlify_back_to_the_client()
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        var connection = await setup.AddConnectionAsync();
        var session = await setup.SignInAsync(connection);
        Assert.Equal(HttpStatusCode.OK, await setup.UserInfoStatusAsync(session.AccessToken));

        var logout = await setup.Browser.GetAsync(setup.LogoutUrl(session.IdToken, SignedOutUri, "bye/1+é"));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        var toIdp = logout.Headers.Location!;
        Assert.StartsWith(setup.Idp.SloUrl + "?SAMLRequest=", toIdp.OriginalString);
        Assert.Contains("&Signature=", toIdp.OriginalString);
        // The tokens are refused before the IdP has even answered.
        Assert.Equal(HttpStatusCode.Unauthorized, await setup.UserInfoStatusAsync(session.AccessToken));

        // samlify checks our query-string signature: with the RelayState changed it refuses.
        var relayState = HttpUtility.ParseQueryString(toIdp.Query)["RelayState"]!;
        var tampered = await setup.Idp.VisitSloAsync(new Uri(toIdp.OriginalString.Replace(
            "RelayState=" + Uri.EscapeDataString(relayState), "RelayState=" + Uri.EscapeDataString(relayState + "x"))));
        Assert.Equal(HttpStatusCode.BadRequest, tampered.StatusCode);
        Assert.Contains("SIGNATURE", await tampered.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        var idpAnswer = await setup.Idp.VisitSloAsync(toIdp);
        Assert.True(idpAnswer.StatusCode == HttpStatusCode.Redirect, await idpAnswer.Content.ReadAsStringAsync() + setup.Idp.Log);
        var back = idpAnswer.Headers.Location!;
        Assert.StartsWith(connection.SloUrl + "?SAMLResponse=", back.OriginalString);

        // samlify verified our signature and read the NameID and SessionIndex of that sign-in.
        var accepted = (await setup.Idp.LogoutsAsync())["requests"]!.AsArray().Single()!;
        Assert.Equal(setup.Email, accepted["nameID"]!.GetValue<string>());
        Assert.Equal(session.SessionIndex, accepted["sessionIndex"]!.GetValue<string>());
        Assert.Equal(connection.SpEntityId, accepted["issuer"]!.GetValue<string>());

        var done = await setup.Browser.GetAsync(new Uri(back.OriginalString).PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.Equal(SignedOutUri, done.Headers.Location!.GetLeftPart(UriPartial.Path));
        Assert.Equal("bye/1+é", HttpUtility.ParseQueryString(done.Headers.Location.Query)["state"]);

        // The LogoutResponse is accepted once.
        var replayed = await setup.Browser.GetAsync(new Uri(back.OriginalString).PathAndQuery);
        Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
        Assert.Null(replayed.Headers.Location);
    }

    [Theory]
    [InlineData("redirect")]
    [InlineData("post")]
    public async Task A_samlify_LogoutRequest_revokes_the_users_tokens_and_gets_a_LogoutResponse_samlify_accepts(string binding)
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        var connection = await setup.AddConnectionAsync();
        var session = await setup.SignInAsync(connection);
        Assert.Equal(HttpStatusCode.OK, await setup.UserInfoStatusAsync(session.AccessToken));

        var idpRequest = await setup.Idp.LogoutUserAsync(connection.SpEntityId, binding);
        var answer = await setup.DeliverToSloAsync(connection, idpRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, await setup.UserInfoStatusAsync(session.AccessToken));

        // A LogoutRequest acts once: replayed later, it cannot end sessions begun since.
        var replayed = await setup.DeliverToSloAsync(connection, idpRequest);
        Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
        Assert.Contains("already processed", await replayed.Content.ReadAsStringAsync());

        // Our LogoutResponse goes back in the binding the request came in, and samlify accepts it.
        HttpResponseMessage atIdp;
        if (binding == "redirect")
        {
            Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
            Assert.StartsWith(setup.Idp.SloUrl + "?SAMLResponse=", answer.Headers.Location!.OriginalString);
            atIdp = await setup.Idp.VisitSloAsync(answer.Headers.Location);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var (action, fields) = SamlifyIdpServer.ReadFormFields(await answer.Content.ReadAsStringAsync());
            Assert.True(fields.ContainsKey("SAMLResponse"));
            atIdp = await setup.Idp.PostSloAsync(action, fields);
        }
        var body = await atIdp.Content.ReadAsStringAsync();
        Assert.True(atIdp.StatusCode == HttpStatusCode.OK, body + setup.Idp.Log);
        var read = JsonNode.Parse(body)!;
        Assert.Equal(idpRequest.Id, read["inResponseTo"]!.GetValue<string>());
        Assert.Equal("urn:oasis:names:tc:SAML:2.0:status:Success", read["status"]!.GetValue<string>());
        Assert.Equal(connection.SpEntityId, read["issuer"]!.GetValue<string>());
        Assert.Equal(idpRequest.RelayState, read["relayState"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("unsigned")]
    [InlineData("relay-state-tampered")]
    [InlineData("post-name-id-tampered")]
    public async Task Refuses_an_unsigned_or_tampered_LogoutRequest_with_a_400_page_and_revokes_nothing(string tampering)
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        var connection = await setup.AddConnectionAsync();
        var session = await setup.SignInAsync(connection);

        var idpRequest = await setup.Idp.LogoutUserAsync(connection.SpEntityId, tampering.StartsWith("post") ? "post" : "redirect");
        var forged = tampering switch
        {
            "unsigned" => idpRequest with { Url = idpRequest.Url![..idpRequest.Url!.IndexOf("&SigAlg=", StringComparison.Ordinal)] },
            "relay-state-tampered" => idpRequest with
            {
                Url = idpRequest.Url!.Replace("RelayState=" + Uri.EscapeDataString(idpRequest.RelayState), "RelayState=other"),
            },
            _ => idpRequest with
            {
                SamlRequest = Convert.ToBase64String(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Convert.FromBase64String(idpRequest.SamlRequest!))
                    .Replace(setup.Email, "someone." + setup.Email))),
            },
        };
        Assert.NotEqual(idpRequest, forged);

        var answer = await setup.DeliverToSloAsync(connection, forged);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Null(answer.Headers.Location);
        Assert.Contains("nothing was signed out", await answer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, await setup.UserInfoStatusAsync(session.AccessToken));
    }

    [Fact]
    public async Task Refuses_an_unregistered_post_logout_redirect_uri_and_a_forged_id_token_hint_and_changes_nothing()
    {
        await using var setup = await Setup.CreateAsync(fixture.App);
        var connection = await setup.AddConnectionAsync();
        var session = await setup.SignInAsync(connection);

        var unregistered = await setup.Browser.GetAsync(setup.LogoutUrl(session.IdToken, "https://evil.example.test/phish", "s"));
        Assert.Equal(HttpStatusCode.BadRequest, unregistered.StatusCode);
        Assert.Null(unregistered.Headers.Location);
        Assert.Contains("not registered", await unregistered.Content.ReadAsStringAsync());

        // The same claims, signed by a key that is not ours.
        var claims = new JsonWebToken(session.IdToken);
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = claims.Issuer,
            Audience = setup.ClientId,
            Claims = claims.Claims.Where(c => c.Type is "sub" or "sid" or "tenant" or "connection").ToDictionary(c => c.Type, c => (object)c.Value),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)) { KeyId = claims.Kid }, SecurityAlgorithms.RsaSha256),
        });
        var badHint = await setup.Browser.GetAsync(setup.LogoutUrl(forged, SignedOutUri, "s"));
        Assert.Equal(HttpStatusCode.BadRequest, badHint.StatusCode);
        Assert.Null(badHint.Headers.Location);
        Assert.Contains("signature", await badHint.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, await setup.UserInfoStatusAsync(session.AccessToken));
        Assert.Empty((await setup.Idp.LogoutsAsync())["requests"]!.AsArray());
    }

    public sealed record ConnectionView(string Id, string SpEntityId, string AcsUrl, string SloUrl);

    public sealed record SignedInSession(string AccessToken, string IdToken, string SessionIndex);

    /// <summary>A tenant signing in at a fresh samlify IdP, and a client with a post-logout redirect URI.</summary>
    internal sealed class Setup : SamlifyTestTenant
    {
        private Setup(SsoAppFactory app, SamlifyIdpServer idp, string domain) : base(app, idp, domain, "ada@" + domain) { }

        public static async Task<Setup> CreateAsync(SsoAppFactory app)
        {
            var domain = "slo" + Guid.NewGuid().ToString("N")[..10] + ".test";
            var idp = await SamlifyIdpServer.StartAsync(new SamlifyIdpServer.User("ada@" + domain, "Ada", "Lovelace", []));
            var setup = new Setup(app, idp, domain);
            var client = await setup.CreateTenantAndClientAsync("Analytical", new JsonObject { ["jitProvisioning"] = true }, new
            {
                name = "Product", redirectUris = new[] { SignInFlow.RedirectUri }, postLogoutRedirectUris = new[] { SignedOutUri },
            });
            Assert.Equal(SignedOutUri, client["postLogoutRedirectUris"]![0]!.GetValue<string>());
            return setup;
        }

        public async Task<ConnectionView> AddConnectionAsync(JsonObject? body = null)
        {
            var (view, spMetadata) = await CreateConnectionAsync(body);
            Assert.Contains("SingleLogoutService", spMetadata);
            var id = view["id"]!.GetValue<string>();
            return new ConnectionView(id, view["spEntityId"]!.GetValue<string>(), view["acsUrl"]!.GetValue<string>(),
                "http://localhost/saml/slo/" + id);
        }

        /// <summary>A whole sign-in through samlify: authorize, IdP, ACS, token endpoint.</summary>
        public async Task<SignedInSession> SignInAsync(ConnectionView connection)
        {
            var (verifier, challenge) = SignInFlow.NewPkce();
            var authorize = await Browser.GetAsync("/oauth/authorize?response_type=code&scope=openid%20email"
                + $"&client_id={ClientId}&redirect_uri={Uri.EscapeDataString(SignInFlow.RedirectUri)}&state=in"
                + $"&code_challenge={challenge}&code_challenge_method=S256&connection={connection.Id}");
            Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
            var form = await Idp.SignInAsync(authorize.Headers.Location!);
            var acs = await PostToAcsAsync(form.Action, form.SamlResponse, form.RelayState!);
            var callback = SignInFlow.CallbackParameters(acs);
            Assert.True(callback.ContainsKey("code"), callback.GetValueOrDefault("error_description"));

            var tokens = await RedeemAsync(callback["code"], verifier);
            Assert.True(tokens.StatusCode == HttpStatusCode.OK, await tokens.Content.ReadAsStringAsync());
            var json = (await tokens.Content.ReadFromJsonAsync<JsonObject>())!;
            var idToken = json["id_token"]!.GetValue<string>();
            Assert.StartsWith("ses_", new JsonWebToken(idToken).GetClaim("sid").Value);

            var response = new XmlDocument { XmlResolver = null };
            response.LoadXml(Encoding.UTF8.GetString(Convert.FromBase64String(form.SamlResponse)));
            var authn = (XmlElement)response.GetElementsByTagName("AuthnStatement", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!;
            return new SignedInSession(json["access_token"]!.GetValue<string>(), idToken, authn.GetAttribute("SessionIndex"));
        }

        public string LogoutUrl(string idToken, string postLogoutRedirectUri, string state) =>
            $"/oauth/logout?id_token_hint={idToken}&post_logout_redirect_uri={Uri.EscapeDataString(postLogoutRedirectUri)}"
            + $"&state={Uri.EscapeDataString(state)}";

        /// <summary>The browser taking samlify's LogoutRequest to our SLO endpoint (GET for redirect, POST for post).</summary>
        public Task<HttpResponseMessage> DeliverToSloAsync(ConnectionView connection, SamlifyIdpServer.IdpLogoutRequest request)
        {
            if (request.Url is { } url)
            {
                Assert.StartsWith(connection.SloUrl + "?", url);
                return Browser.GetAsync(new Uri(url).PathAndQuery);
            }
            Assert.Equal(connection.SloUrl, request.Action);
            return Browser.PostAsync(new Uri(request.Action!).PathAndQuery, new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["SAMLRequest"] = request.SamlRequest!, ["RelayState"] = request.RelayState,
            }));
        }
    }
}

/// <summary>Logout at a SAML IdP without SLO; its own app, because it moves the clock hours ahead.</summary>
public class RpLogoutWithoutSloTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private const string SignedOutUri = SingleLogoutEndToEndTests.SignedOutUri;

    [Fact]
    public async Task Without_SLO_at_the_IdP_RP_logout_revokes_and_redirects_straight_back_even_with_an_expired_hint()
    {
        await using var setup = await SingleLogoutEndToEndTests.Setup.CreateAsync(fixture.App);
        // Entity ID, SSO URL and certificate by hand: no SingleLogoutService is known.
        var connection = await setup.AddConnectionAsync(new JsonObject
        {
            ["type"] = "saml",
            ["idpEntityId"] = setup.Idp.MetadataUrl,
            ["idpSsoUrl"] = setup.Idp.SsoUrl,
            ["idpCertificates"] = new JsonArray(setup.Idp.Certificate.ExportCertificatePem()),
        });
        var session = await setup.SignInAsync(connection);
        fixture.App.Clock.Advance(TimeSpan.FromHours(2));   // the id_token has expired; still a valid hint

        var logout = await setup.Browser.PostAsync("/oauth/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["id_token_hint"] = session.IdToken, ["client_id"] = setup.ClientId, ["post_logout_redirect_uri"] = SignedOutUri, ["state"] = "st",
        }));

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(SignedOutUri + "?state=st", logout.Headers.Location!.OriginalString);
        var sessionRows = new Azure.Data.Tables.TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "accesstokens");
        var sid = new JsonWebToken(session.IdToken).GetClaim("sid").Value;
        Assert.True((await sessionRows.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(setup.TenantId, "revokedsid|" + sid)).HasValue);
        Assert.Empty((await setup.Idp.LogoutsAsync())["requests"]!.AsArray());
    }
}
