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
        Assert.False(raw.ContainsKey("end_session_endpoint"));
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
