using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Sso.Functions.Tests.Oidc;

/// <summary>Issue 18.8 against oidc-provider: prompt=login and max_age reach it, and its auth_time passes our check.</summary>
public partial class OidcProviderEndToEndTests
{
    [Fact]
    public async Task A_step_up_sign_in_through_oidc_provider_carries_its_auth_time_into_our_id_token()
    {
        var rpSecret = "rp-secret-" + Guid.NewGuid().ToString("N");
        var domain = OidcTestFlow.UniqueDomain();
        await using var op = await OidcProviderPeer.StartAsync(RpClientId, rpSecret, "http://localhost/oidc/callback", domain);
        _authorizeExtra = "prompt=login&max_age=300";
        // oidc-provider stamps auth_time with the real clock; ours must not be behind it (we never date an authentication in our future).
        var ahead = DateTimeOffset.UtcNow.AddSeconds(5);
        if (ahead > fixture.App.Clock.GetUtcNow()) fixture.App.Clock.SetUtcNow(ahead);

        var signIn = await SignInAsync(op, rpSecret, domain);

        Assert.Null(OidcTestFlow.ParamOrNull(signIn.Final, "error_description"));
        var tokens = (await (await RedeemAsync(signIn, OidcTestFlow.Param(signIn.Final, "code"))).Content.ReadFromJsonAsync<JsonObject>())!;
        var idToken = new JsonWebToken(tokens["id_token"]!.GetValue<string>());
        Assert.True(idToken.TryGetClaim("auth_time", out var authTime));
        // oidc-provider's own auth_time (with max_age it must send one), not the instant we issued the code.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
        var claims = (await (await _flow.Browser.SendAsync(request)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(claims["idp"]!["auth_time"]!.GetValue<long>().ToString(), authTime.Value);
    }
}
