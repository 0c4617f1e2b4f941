using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

/// <summary>
/// RFC 6749 §4.1.2 and the OAuth 2.0 Security BCP: a code redeemed a second time is refused, and
/// the tokens its first use issued stop working at once.
/// </summary>
public class CodeReplayTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    private static async Task<HttpStatusCode> UserInfoStatusAsync(SignInFlow flow, string accessToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (await flow.Browser.SendAsync(request)).StatusCode;
    }

    private static async Task AssertInvalidGrantAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("invalid_grant", body["error"]!.GetValue<string>());
        Assert.Null(body["access_token"]);
    }

    [Fact]
    public async Task A_second_redemption_is_refused_and_revokes_the_access_token_of_the_first()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        var first = await flow.RedeemAsync(code, verifier);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var accessToken = (await first.Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, await UserInfoStatusAsync(flow, accessToken));

        await AssertInvalidGrantAsync(await flow.RedeemAsync(code, verifier));

        Assert.Equal(HttpStatusCode.Unauthorized, await UserInfoStatusAsync(flow, accessToken));
    }

    [Fact]
    public async Task A_replay_with_a_wrong_verifier_still_revokes_the_first_tokens()
    {
        // The attacker who stole the code need not know the PKCE verifier to give it away.
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        var accessToken = (await (await flow.RedeemAsync(code, verifier)).Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();

        await AssertInvalidGrantAsync(await flow.RedeemAsync(code, SignInFlow.NewPkce().Verifier));

        Assert.Equal(HttpStatusCode.Unauthorized, await UserInfoStatusAsync(flow, accessToken));
    }

    [Fact]
    public async Task Concurrent_redemptions_give_tokens_to_exactly_one_and_those_tokens_are_revoked()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => flow.RedeemAsync(code, verifier)));

        var winner = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        foreach (var refused in responses.Where(r => r != winner)) await AssertInvalidGrantAsync(refused);
        var accessToken = (await winner.Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Unauthorized, await UserInfoStatusAsync(flow, accessToken));
    }

    [Fact]
    public async Task Another_sign_in_of_the_same_user_keeps_working_after_a_replay()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        Assert.Equal(HttpStatusCode.OK, (await flow.RedeemAsync(code, verifier)).StatusCode);
        var (other, otherVerifier) = await flow.SignInAsync();
        var otherToken = (await (await flow.RedeemAsync(other, otherVerifier)).Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();

        await AssertInvalidGrantAsync(await flow.RedeemAsync(code, verifier));

        Assert.Equal(HttpStatusCode.OK, await UserInfoStatusAsync(flow, otherToken));
    }

    [Fact]
    public async Task The_redeemed_code_leaves_a_tombstone_without_the_profile_that_the_sweep_removes()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        Assert.Equal(HttpStatusCode.OK, (await flow.RedeemAsync(code, verifier)).StatusCode);
        // A SAML sign-in's code is in its connection's partition (issue 14).
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + ConnectionSignInStore.TableName);
        var row = table.GetEntity<TableEntity>(ConnectionSignInStore.PartitionOf(new Sso.Functions.Connections.ConnectionId(flow.ConnectionId), code),
            "code|" + AuthorizationCode.HashOf(code)).Value;

        Assert.NotNull(row.GetDateTimeOffset("RedeemedAt"));
        Assert.Null(row.GetString("User"));
        Assert.DoesNotContain(row, p => p.Value?.ToString()?.Contains(flow.Email, StringComparison.OrdinalIgnoreCase) == true);

        fixture.App.Clock.Advance(AuthorizationCode.Lifetime + RedeemedCode.Margin + TimeSpan.FromSeconds(1));
        await SignInMaintenance.CleanUpAsync(fixture.App.Services, default);
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey)).HasValue);
    }
}
