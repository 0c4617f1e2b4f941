using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

public class TokenEndpointTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    private static async Task<JsonObject> ErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(error, body["error"]!.GetValue<string>());
        return body;
    }

    [Fact]
    public async Task Accepts_client_secret_post()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        var response = await flow.RedeemAsync(code, verifier, basic: false);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_code_is_single_use()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        Assert.Equal(HttpStatusCode.OK, (await flow.RedeemAsync(code, verifier)).StatusCode);
        await ErrorAsync(await flow.RedeemAsync(code, verifier), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task A_code_redeemed_by_parallel_requests_gives_tokens_to_exactly_one()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => flow.RedeemAsync(code, verifier)));

        // At most one redemption wins. The others are replays (RFC 6749 §4.1.2) and revoke the
        // session, so whether the winner's own revocation check ran before or after theirs decides
        // only whether it is answered with tokens that no longer work or refused outright.
        var granted = responses.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        Assert.True(granted.Count <= 1, $"{granted.Count} redemptions got tokens");
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
            await ErrorAsync(refused, HttpStatusCode.BadRequest, "invalid_grant");
        foreach (var winner in granted)
        {
            var accessToken = (await winner.Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
            Assert.Equal(HttpStatusCode.Unauthorized, (await flow.Browser.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task Stores_codes_only_as_hashes()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, _) = await flow.SignInAsync();
        // A SAML sign-in's code is in its connection's partition (issue 14).
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "signins");
        var rows = table.Query<TableEntity>(Sso.Functions.OAuth.ConnectionSignInStore.PartitionsFilter(new Sso.Functions.Connections.ConnectionId(flow.ConnectionId))).ToList();
        Assert.Contains(rows, r => r.RowKey.StartsWith("code|"));
        Assert.DoesNotContain(rows, r => r.RowKey.Contains(code) || r.Any(v => v.Value?.ToString()?.Contains(code) == true));
    }

    [Fact]
    public async Task Keeps_each_connections_codes_in_its_own_partitions_and_redeems_them_from_there()
    {
        // With one client every tenant's sign-ins are written: a partition per client would cap the
        // fleet. A SAML sign-in's code lives in one of its connection's partitions, which the code names.
        var flows = new[] { await SignInFlow.CreateAsync(fixture.App, Jit), await SignInFlow.CreateAsync(fixture.App, Jit) };
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "signins");
        foreach (var flow in flows)
        {
            var (code, verifier) = await flow.SignInAsync();
            Assert.StartsWith("sso_ac_" + flow.ConnectionId + ".", code);
            Assert.True((await table.GetEntityIfExistsAsync<TableEntity>(
                Sso.Functions.OAuth.ConnectionSignInStore.PartitionOf(new Sso.Functions.Connections.ConnectionId(flow.ConnectionId), code),
                "code|" + Sso.Functions.OAuth.AuthorizationCode.HashOf(code))).HasValue);
            Assert.Equal(HttpStatusCode.OK, (await flow.RedeemAsync(code, verifier)).StatusCode);
            await ErrorAsync(await flow.RedeemAsync(code, verifier), HttpStatusCode.BadRequest, "invalid_grant");
        }
        Assert.NotEqual(flows[0].ConnectionId, flows[1].ConnectionId);
    }

    [Fact]
    public async Task Requires_the_code_verifier_when_a_challenge_was_sent()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, _) = await flow.SignInAsync();
        await ErrorAsync(await flow.RedeemAsync(code, null), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Refuses_a_code_verifier_that_does_not_match()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, _) = await flow.SignInAsync();
        await ErrorAsync(await flow.RedeemAsync(code, SignInFlow.NewPkce().Verifier), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Refuses_a_redirect_uri_other_than_the_one_at_authorize()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        await ErrorAsync(await flow.RedeemAsync(code, verifier, redirectUri: "https://app.example.test/other"),
            HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Refuses_an_expired_code()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        fixture.App.Clock.Advance(AuthorizationCode.Lifetime + TimeSpan.FromSeconds(1));
        await ErrorAsync(await flow.RedeemAsync(code, verifier), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Fact]
    public async Task Refuses_a_wrong_secret_with_401_and_a_Basic_challenge()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        var response = await flow.RedeemAsync(code, verifier, secret: "sso_cs_wrong");
        await ErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
        Assert.StartsWith("Basic", response.Headers.WwwAuthenticate.ToString());

        // The failed attempt did not consume the code.
        Assert.Equal(HttpStatusCode.OK, (await flow.RedeemAsync(code, verifier)).StatusCode);
    }

    [Fact]
    public async Task Refuses_a_wrong_secret_in_the_body_with_401()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        await ErrorAsync(await flow.RedeemAsync(code, verifier, basic: false, secret: "nope"), HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Refuses_a_code_issued_to_another_client()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var other = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        await ErrorAsync(await other.RedeemAsync(code, verifier), HttpStatusCode.BadRequest, "invalid_grant");
    }

    [Theory]
    [InlineData("grant_type=password&username=a&password=b", "unsupported_grant_type")]
    [InlineData("grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcallback", "invalid_request")]
    [InlineData("code=x&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcallback", "invalid_request")]
    public async Task Answers_malformed_requests_with_RFC_6749_errors(string form, string error)
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new StringContent(form, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(flow.ClientId + ":" + flow.ClientSecret)));
        await ErrorAsync(await flow.Browser.SendAsync(request), HttpStatusCode.BadRequest, error);
    }

    [Fact]
    public async Task Answers_a_json_body_with_invalid_request()
    {
        var response = await fixture.App.CreateAnonymousClient().PostAsJsonAsync("/oauth/token", new { grant_type = "authorization_code" });
        await ErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Userinfo_refuses_a_revoked_or_expired_token_with_invalid_token()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        var tokens = (await (await flow.RedeemAsync(code, verifier)).Content.ReadFromJsonAsync<JsonObject>())!;
        var accessToken = tokens["access_token"]!.GetValue<string>();
        var sub = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens["id_token"]!.GetValue<string>()).Subject;

        async Task<HttpResponseMessage> UserInfoAsync()
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            return await flow.Browser.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.OK, (await UserInfoAsync()).StatusCode);

        await fixture.App.Get<AccessTokenStore>().RevokeSubjectAsync(new TenantId(flow.TenantId), sub, fixture.App.Clock.GetUtcNow(), default);
        var revoked = await UserInfoAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("error=\"invalid_token\"", revoked.Headers.WwwAuthenticate.ToString());

        // A sign-in after the revocation gets a working token again.
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(1));
        var (code2, verifier2) = await flow.SignInAsync();
        accessToken = (await (await flow.RedeemAsync(code2, verifier2)).Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await UserInfoAsync()).StatusCode);

        fixture.App.Clock.Advance(AccessTokenStore.Lifetime);
        Assert.Equal(HttpStatusCode.Unauthorized, (await UserInfoAsync()).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer garbage")]
    [InlineData("Basic abc")]
    public async Task Userinfo_answers_401_without_a_valid_bearer_token(string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        var response = await fixture.App.CreateAnonymousClient().SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
    }
}
