using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Functions.OAuth;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

/// <summary>
/// The id_token signing key rotated by the management API, with sign-ins before and after: a
/// token keeps validating against the JWKS until the key that signed it is retired. Each test
/// has its own app, since a rotation changes what every sign-in of that app signs with.
/// </summary>
public class SigningKeyRotationTests
{
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    private static async Task<string> SignInForIdTokenAsync(SignInFlow flow)
    {
        var (code, verifier) = await flow.SignInAsync();
        var token = await flow.RedeemAsync(code, verifier);
        Assert.True(token.StatusCode == HttpStatusCode.OK, await token.Content.ReadAsStringAsync());
        return (await token.Content.ReadFromJsonAsync<JsonObject>())!["id_token"]!.GetValue<string>();
    }

    private static async Task<JsonWebKeySet> JwksAsync(SignInFlow flow) => new(await flow.Browser.GetStringAsync("/oauth/jwks"));

    /// <summary>Validates as a stock OIDC client does, with the keys the JWKS publishes now.</summary>
    private static async Task<TokenValidationResult> ValidateAsync(SignInFlow flow, string idToken) =>
        await new JsonWebTokenHandler().ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = "http://localhost",
            ValidAudience = flow.ClientId,
            IssuerSigningKeys = (await JwksAsync(flow)).GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            ValidateLifetime = false,
        });

    private static async Task<JsonArray> ListAsync(SignInFlow flow) =>
        (await flow.Admin.GetFromJsonAsync<JsonObject>("/api/v1/signing-keys"))!["data"]!.AsArray();

    [Fact]
    public async Task Signs_in_across_a_rotation_and_the_retirement_of_the_old_key()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var flow = await SignInFlow.CreateAsync(app, Jit);

        var before = await SignInForIdTokenAsync(flow);
        var oldKid = new JsonWebToken(before).Kid;
        Assert.True((await ValidateAsync(flow, before)).IsValid);
        var listed = Assert.Single(await ListAsync(flow));
        Assert.Equal(oldKid, listed!["kid"]!.GetValue<string>());
        Assert.Equal("current", listed["status"]!.GetValue<string>());

        var rotated = await flow.Admin.PostAsync("/api/v1/signing-keys/rotate", null);
        Assert.True(rotated.StatusCode == HttpStatusCode.Created, await rotated.Content.ReadAsStringAsync());
        var newKid = (await rotated.Content.ReadFromJsonAsync<JsonObject>())!["kid"]!.GetValue<string>();
        Assert.NotEqual(oldKid, newKid);

        var jwksResponse = await flow.Browser.GetAsync("/oauth/jwks");
        Assert.True(jwksResponse.Headers.CacheControl?.MaxAge <= TokenSigningKeys.CacheFor);
        // Both published; the old token still validates; a new sign-in is signed with the new key.
        Assert.Equal([newKid, oldKid], (await JwksAsync(flow)).Keys.Select(k => k.Kid));
        Assert.True((await ValidateAsync(flow, before)).IsValid);
        var after = await SignInForIdTokenAsync(flow);
        Assert.Equal(newKid, new JsonWebToken(after).Kid);
        Assert.True((await ValidateAsync(flow, after)).IsValid);
        Assert.Equal([(newKid, "current"), (oldKid, "previous")],
            (await ListAsync(flow)).Select(k => (k!["kid"]!.GetValue<string>(), k["status"]!.GetValue<string>())));

        var retireCurrent = await flow.Admin.DeleteAsync($"/api/v1/signing-keys/{newKid}");
        Assert.Equal(HttpStatusCode.Conflict, retireCurrent.StatusCode);
        Assert.Equal("application/problem+json", retireCurrent.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await flow.Admin.DeleteAsync("/api/v1/signing-keys/no-such-kid")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await flow.Admin.DeleteAsync($"/api/v1/signing-keys/{oldKid}")).StatusCode);
        Assert.Equal([newKid], (await JwksAsync(flow)).Keys.Select(k => k.Kid));
        Assert.False((await ValidateAsync(flow, before)).IsValid);
        Assert.True((await ValidateAsync(flow, after)).IsValid);
        Assert.Equal([newKid], (await ListAsync(flow)).Select(k => k!["kid"]!.GetValue<string>()));
        Assert.Equal(newKid, new JsonWebToken(await SignInForIdTokenAsync(flow)).Kid);
    }

    [Fact]
    public async Task Refuses_to_rotate_past_the_ring_limit_and_requires_the_admin_key()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var admin = app.CreateAdminClient();
        for (var i = 1; i < TokenSigningKeys.MaxKeys; i++)
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/api/v1/signing-keys/rotate", null)).StatusCode);

        var full = await admin.PostAsync("/api/v1/signing-keys/rotate", null);

        Assert.Equal(HttpStatusCode.Conflict, full.StatusCode);
        Assert.Equal(TokenSigningKeys.MaxKeys, (await admin.GetFromJsonAsync<JsonObject>("/api/v1/signing-keys"))!["data"]!.AsArray().Count);
        var anonymous = app.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/signing-keys/rotate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/signing-keys")).StatusCode);
        Assert.Equal(TokenSigningKeys.MaxKeys, (await admin.GetFromJsonAsync<JsonObject>("/api/v1/signing-keys"))!["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task Another_instance_picks_up_a_rotation_within_the_cache_time()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        // A second instance over the same secret store, with the app's clock.
        var other = new TokenSigningKeys(app.Get<Sso.Functions.Storage.Secrets.ISecretStore>(), app.Clock);
        var first = await other.GetCurrentAsync(default);

        var rotated = await app.CreateAdminClient().PostAsync("/api/v1/signing-keys/rotate", null);
        var newKid = (await rotated.Content.ReadFromJsonAsync<JsonObject>())!["kid"]!.GetValue<string>();

        Assert.Equal(first.Kid, (await other.GetCurrentAsync(default)).Kid);  // still cached
        app.Clock.Advance(TokenSigningKeys.CacheFor);
        Assert.Equal(newKid, (await other.GetCurrentAsync(default)).Kid);
        Assert.Equal([newKid, first.Kid], (await other.GetAsync(default)).Select(k => k.Kid));
    }
}
