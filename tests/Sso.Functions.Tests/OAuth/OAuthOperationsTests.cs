using System.Text.Json.Nodes;
using System.Web;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

/// <summary>Authorize, token redemption, userinfo and RP-initiated logout called as operations, with no HTTP request of ours around them.</summary>
public class OAuthOperationsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private Authorization Authorization => fixture.App.Get<Authorization>();
    private TokenIssuance Tokens => fixture.App.Get<TokenIssuance>();
    private RpLogout Logout => fixture.App.Get<RpLogout>();
    private UserInfoLookup UserInfo => fixture.App.Get<UserInfoLookup>();
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    [Fact]
    public async Task Authorization_keeps_a_pending_sign_in_for_the_connection_of_the_login_hint_and_starts_the_IdP_leg()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);

        var outcome = await Authorization.AuthorizeAsync(QueryOf(flow.AuthorizeUrl("op-authorize", SignInFlow.NewPkce().Challenge)), default);

        var started = Assert.IsType<AuthorizeOutcome.Started>(outcome);
        Assert.Equal(flow.TenantId, started.TenantId.Value);
        Assert.True(started.Start.IsSuccess, started.Start.ToString());
        var url = new Uri(Assert.IsType<IdpRequest.Redirect>(started.Start.Value).Url);
        Assert.StartsWith(SamlTestIdp.SsoUrl + "?", url.AbsoluteUri);
        var relayState = HttpUtility.ParseQueryString(url.Query)["RelayState"]!;
        var stored = await fixture.App.Get<PendingSignInStore>().FindAsync(relayState, default);
        Assert.NotNull(stored);
        Assert.Equal("op-authorize", stored.Value.PendingSignIn.State);
    }

    [Fact]
    public async Task Authorization_refuses_an_unknown_client_with_the_page_and_no_redirect()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var parameters = QueryOf(flow.AuthorizeUrl("op-unknown", SignInFlow.NewPkce().Challenge))
            .Select(p => p.Key == "client_id" ? new KeyValuePair<string, string>("client_id", ClientId.New().Value) : p).ToList();

        var refused = Assert.IsType<AuthorizeOutcome.Refused>(await Authorization.AuthorizeAsync(parameters, default));

        var page = Assert.IsType<SignInCompletion.Page>(refused.Answer);
        Assert.Equal(400, page.Status);
        Assert.Equal("Sign-in request refused", page.Title);
        Assert.Null(page.TenantId);
    }

    [Fact]
    public async Task TokenIssuance_redeems_a_code_once_for_an_access_token_and_an_id_token()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync("op-token");

        var redeemed = await Tokens.RedeemAsync(Redemption(flow, code, verifier), null, default);

        Assert.True(redeemed.IsSuccess, redeemed.ToString());
        Assert.Equal(flow.TenantId, redeemed.Value.TenantId.Value);
        Assert.Equal(3, redeemed.Value.IdToken.Split('.').Length);
        var token = await fixture.App.Get<AccessTokenStore>().FindValidAsync(redeemed.Value.AccessToken, fixture.App.Clock.GetUtcNow(), default);
        Assert.Equal(flow.Email, token?.User.Email);

        var replayed = await Tokens.RedeemAsync(Redemption(flow, code, verifier), null, default);
        Assert.False(replayed.IsSuccess);
        Assert.Equal("invalid_grant", replayed.Error.Error);
    }

    [Fact]
    public async Task TokenIssuance_refuses_a_wrong_client_secret_as_invalid_client_and_leaves_the_code_usable()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync("op-secret");
        var wrongSecret = Redemption(flow, code, verifier)
            .Select(p => p.Key == "client_secret" ? new KeyValuePair<string, string>("client_secret", "not-the-secret") : p).ToList();

        var refused = await Tokens.RedeemAsync(wrongSecret, null, default);

        Assert.False(refused.IsSuccess);
        Assert.True(refused.Error.IsInvalidClient);
        Assert.Equal("invalid_client", refused.Error.Error);
        Assert.Null(refused.Error.TenantId);
        Assert.True((await Tokens.RedeemAsync(Redemption(flow, code, verifier), null, default)).IsSuccess);
    }

    [Fact]
    public async Task RpLogout_ends_the_session_of_the_id_token_hint_and_its_access_token_stops_working()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync("op-logout");
        var tokens = (await Tokens.RedeemAsync(Redemption(flow, code, verifier), null, default)).Value;

        var outcome = await Logout.LogoutAsync([new("id_token_hint", tokens.IdToken), new("state", "bye")], default);

        var signedOut = Assert.IsType<RpLogoutOutcome.SignedOut>(outcome);
        Assert.Equal(flow.TenantId, signedOut.TenantId.Value);
        Assert.Null(signedOut.PostLogoutRedirectUri);
        Assert.Equal("bye", signedOut.State);
        Assert.Null(await fixture.App.Get<AccessTokenStore>().FindValidAsync(tokens.AccessToken, fixture.App.Clock.GetUtcNow(), default));
    }

    [Fact]
    public async Task RpLogout_refuses_an_unregistered_post_logout_redirect_uri_and_revokes_nothing()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync("op-logout-refused");
        var tokens = (await Tokens.RedeemAsync(Redemption(flow, code, verifier), null, default)).Value;

        var outcome = await Logout.LogoutAsync(
            [new("id_token_hint", tokens.IdToken), new("post_logout_redirect_uri", "https://evil.example.test/")], default);

        var refused = Assert.IsType<RpLogoutOutcome.Refused>(outcome);
        Assert.Contains("post_logout_redirect_uri is not registered", refused.Message);
        Assert.NotNull(await fixture.App.Get<AccessTokenStore>().FindValidAsync(tokens.AccessToken, fixture.App.Clock.GetUtcNow(), default));
    }

    [Fact]
    public async Task UserInfoLookup_answers_the_claims_of_the_user_an_access_token_was_issued_to()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync("op-userinfo");
        var tokens = (await Tokens.RedeemAsync(Redemption(flow, code, verifier), null, default)).Value;

        var found = await UserInfo.LookupAsync(tokens.AccessToken, default);

        Assert.True(found.IsSuccess, found.ToString());
        Assert.Equal(flow.TenantId, found.Value.TenantId.Value);
        var claims = found.Value.Claims;
        Assert.Equal(new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.IdToken).Subject, claims["sub"]!.GetValue<string>());
        Assert.Equal(flow.Email, claims["email"]!.GetValue<string>());
        Assert.Equal(flow.TenantId, claims["tenant"]!.GetValue<string>());
        Assert.Equal(flow.ConnectionId, claims["connection"]!.GetValue<string>());
        Assert.IsType<JsonArray>(claims["groups"]);
        Assert.IsType<JsonObject>(claims["idp"]);
        Assert.Equal(["sub", "email", "email_verified", "given_name", "family_name", "name", "tenant", "connection", "groups", "role", "idp"],
            claims.Select(c => c.Key));
    }

    [Fact]
    public async Task UserInfoLookup_refuses_an_unknown_a_revoked_and_an_expired_token_as_invalid_token()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync("op-userinfo-refused");
        var tokens = (await Tokens.RedeemAsync(Redemption(flow, code, verifier), null, default)).Value;
        var valid = await UserInfo.LookupAsync(tokens.AccessToken, default);
        Assert.True(valid.IsSuccess, valid.ToString());

        Assert.Equal(UserInfoRefusal.InvalidToken, (await UserInfo.LookupAsync("garbage", default)).Error);
        Assert.Equal(UserInfoRefusal.InvalidToken,
            (await UserInfo.LookupAsync(AccessTokenStore.NewValue(new TenantId(flow.TenantId)), default)).Error);

        var (code2, verifier2) = await flow.SignInAsync("op-userinfo-expired");
        var later = (await Tokens.RedeemAsync(Redemption(flow, code2, verifier2), null, default)).Value;
        await fixture.App.Get<AccessTokenStore>().RevokeTokenAsync(new TenantId(flow.TenantId), AccessTokenStore.HashOf(tokens.AccessToken), default);
        Assert.Equal(UserInfoRefusal.InvalidToken, (await UserInfo.LookupAsync(tokens.AccessToken, default)).Error);
        Assert.True((await UserInfo.LookupAsync(later.AccessToken, default)).IsSuccess);

        fixture.App.Clock.Advance(AccessTokenStore.Lifetime);
        Assert.Equal(UserInfoRefusal.InvalidToken, (await UserInfo.LookupAsync(later.AccessToken, default)).Error);
    }

    private static List<KeyValuePair<string, string>> QueryOf(string pathAndQuery)
    {
        var query = HttpUtility.ParseQueryString(new Uri("http://localhost" + pathAndQuery).Query);
        return query.AllKeys.Select(k => new KeyValuePair<string, string>(k!, query[k]!)).ToList();
    }

    private static List<KeyValuePair<string, string>> Redemption(SignInFlow flow, string code, string verifier) =>
    [
        new("grant_type", "authorization_code"),
        new("code", code),
        new("redirect_uri", SignInFlow.RedirectUri),
        new("code_verifier", verifier),
        new("client_id", flow.ClientId),
        new("client_secret", flow.ClientSecret),
    ];
}
