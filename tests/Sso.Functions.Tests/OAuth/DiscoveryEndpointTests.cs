using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Sso.Functions.OAuth;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

public class DiscoveryEndpointTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task Lists_exactly_what_is_implemented()
    {
        var client = fixture.App.CreateAnonymousClient();
        var json = await client.GetStringAsync("/.well-known/openid-configuration");
        var configuration = OpenIdConnectConfiguration.Create(json);
        Assert.Equal("http://localhost", configuration.Issuer);
        Assert.Equal("http://localhost/oauth/authorize", configuration.AuthorizationEndpoint);
        Assert.Equal("http://localhost/oauth/token", configuration.TokenEndpoint);
        Assert.Equal("http://localhost/oauth/userinfo", configuration.UserInfoEndpoint);
        Assert.Equal("http://localhost/oauth/jwks", configuration.JwksUri);
        Assert.Equal(["client_secret_basic", "client_secret_post"], configuration.TokenEndpointAuthMethodsSupported);
        Assert.Equal(["S256"], configuration.CodeChallengeMethodsSupported);
        Assert.Equal(["query", "form_post"], configuration.ResponseModesSupported);
        Assert.Equal(["RS256"], configuration.IdTokenSigningAlgValuesSupported);
        Assert.Equal(["code"], configuration.ResponseTypesSupported);
        Assert.Contains("openid", configuration.ScopesSupported);
        Assert.Contains("groups", configuration.ClaimsSupported);
        Assert.Contains("public", configuration.SubjectTypesSupported);

        var raw = JsonNode.Parse(json)!.AsObject();
        Assert.False(raw.ContainsKey("pushed_authorization_request_endpoint"));
        // RP-Initiated Logout 1.0 is implemented; back- and front-channel logout are not.
        Assert.Equal("http://localhost/oauth/logout", raw["end_session_endpoint"]!.GetValue<string>());
        Assert.False(raw.ContainsKey("backchannel_logout_supported"));
        Assert.False(raw.ContainsKey("frontchannel_logout_supported"));
        Assert.False(raw.ContainsKey("registration_endpoint"));
    }

    [Fact]
    public async Task Publishes_every_key_of_the_ring_with_the_current_one_first()
    {
        var keys = fixture.App.Get<TokenSigningKeys>();
        var before = await keys.GetCurrentAsync(default);
        var rotated = await keys.RotateAsync(keepPrevious: 1, default);

        var response = await fixture.App.CreateAnonymousClient().GetAsync("/oauth/jwks");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var set = new JsonWebKeySet(await response.Content.ReadAsStringAsync());
        Assert.Equal([rotated.Kid, before.Kid], set.Keys.Select(k => k.Kid));
        foreach (var key in set.Keys)
        {
            Assert.Equal("RSA", key.Kty);
            Assert.Equal("sig", key.Use);
            Assert.Equal("RS256", key.Alg);
            Assert.False(key.HasPrivateKey);
        }
        var raw = (await response.Content.ReadFromJsonAsync<JsonObject>())!.ToJsonString();
        Assert.DoesNotContain("\"d\"", raw);
    }
}

public class StockOidcClientTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task Microsoft_IdentityModel_reads_the_discovery_document_and_validates_our_id_token_with_its_keys()
    {
        var flow = await Sso.Functions.Tests.Saml.SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var (code, verifier) = await flow.SignInAsync();
        var tokens = (await (await flow.RedeemAsync(code, verifier)).Content.ReadFromJsonAsync<JsonObject>())!;

        var retriever = new Microsoft.IdentityModel.Protocols.HttpDocumentRetriever(fixture.App.CreateAnonymousClient()) { RequireHttps = false };
        var configuration = await OpenIdConnectConfigurationRetriever.GetAsync("http://localhost/.well-known/openid-configuration", retriever, default);
        Assert.NotEmpty(configuration.SigningKeys);

        var result = await new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().ValidateTokenAsync(
            tokens["id_token"]!.GetValue<string>(), new TokenValidationParameters
            {
                ValidIssuer = configuration.Issuer,
                ValidAudience = flow.ClientId,
                IssuerSigningKeys = configuration.SigningKeys,
                LifetimeValidator = (_, expires, _, _) => expires > fixture.App.Clock.GetUtcNow().UtcDateTime,
            });
        Assert.True(result.IsValid, result.Exception?.Message);

        // What OpenIdConnectProtocolValidator checks for a code-flow id_token (nonce, iat, aud, ...).
        var validator = new OpenIdConnectProtocolValidator { RequireState = false, RequireTimeStampInNonce = false, RequireStateValidation = false };
        validator.ValidateTokenResponse(new OpenIdConnectProtocolValidationContext
        {
            Nonce = "n-0S6_WzA2Mj",
            ValidatedIdToken = new System.IdentityModel.Tokens.Jwt.JwtSecurityToken(tokens["id_token"]!.GetValue<string>()),
            ProtocolMessage = new OpenIdConnectMessage { IdToken = tokens["id_token"]!.GetValue<string>(), AccessToken = tokens["access_token"]!.GetValue<string>() },
        });
    }
}
