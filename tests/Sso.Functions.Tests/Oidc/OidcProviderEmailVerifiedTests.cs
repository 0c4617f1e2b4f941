using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Sso.Functions.Tenants;
using Sso.Testing;

namespace Sso.Functions.Tests.Oidc;

/// <summary>
/// Issue 18.5 against oidc-provider: an IdP that does not vouch for the address (email_verified
/// false, as for a self-registered account, or absent) is refused unless the connection sets
/// allowUnverifiedEmail; our own id_token says email_verified only for a DNS-verified domain.
/// </summary>
public partial class OidcProviderEndToEndTests
{
    [Theory]
    [InlineData("false")]
    [InlineData("absent")]
    public async Task Refuses_a_sign_in_whose_email_the_IdP_did_not_verify(string emailVerified)
    {
        var rpSecret = "rp-secret-" + Guid.NewGuid().ToString("N");
        var domain = OidcTestFlow.UniqueDomain();
        await using var op = await OidcProviderPeer.StartAsync(RpClientId, rpSecret, "http://localhost/oidc/callback", domain,
            emailVerified: emailVerified);

        var signIn = await SignInAsync(op, rpSecret, domain);

        Assert.Equal("access_denied", OidcTestFlow.Param(signIn.Final, "error"));
        Assert.Equal("email_not_verified", OidcTestFlow.Param(signIn.Final, "error_description"));
        Assert.Equal("saas-state-42", OidcTestFlow.Param(signIn.Final, "state"));
        Assert.Null(OidcTestFlow.ParamOrNull(signIn.Final, "code"));

        // The refusal is recorded with its reason and the OIDC failure kind, like every refusal.
        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(3));
        var events = (await _flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={_tenantId}"))!["data"]!.AsArray();
        var login = Assert.Single(events, e => e!["type"]!.GetValue<string>() == "sso.login");
        Assert.Equal("failure", login!["data"]!["outcome"]!.GetValue<string>());
        Assert.Equal("email_not_verified", login["data"]!["reason"]!.GetValue<string>());
        Assert.Equal("EmailNotVerified", login["data"]!["failureKind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Signs_in_an_unverified_email_when_the_connection_sets_allowUnverifiedEmail()
    {
        var rpSecret = "rp-secret-" + Guid.NewGuid().ToString("N");
        var domain = OidcTestFlow.UniqueDomain();
        await using var op = await OidcProviderPeer.StartAsync(RpClientId, rpSecret, "http://localhost/oidc/callback", domain,
            emailVerified: "absent");
        _connectionPatch = new JsonObject { ["allowUnverifiedEmail"] = true };

        var signIn = await SignInAsync(op, rpSecret, domain);

        Assert.Null(OidcTestFlow.ParamOrNull(signIn.Final, "error"));
        var tokens = (await (await RedeemAsync(signIn, OidcTestFlow.Param(signIn.Final, "code"))).Content.ReadFromJsonAsync<JsonObject>())!;
        var idToken = new JsonWebToken(tokens["id_token"]!.GetValue<string>());
        Assert.Equal($"alice@{domain}", idToken.GetClaim("email").Value);
        // The tenant's domain is not DNS-verified: our id_token does not vouch for the address either.
        Assert.Equal("false", idToken.GetClaim("email_verified").Value);
    }

    [Fact]
    public async Task Our_id_token_says_email_verified_for_a_verified_domain_of_the_tenant()
    {
        var rpSecret = "rp-secret-" + Guid.NewGuid().ToString("N");
        var domain = OidcTestFlow.UniqueDomain();
        await using var op = await OidcProviderPeer.StartAsync(RpClientId, rpSecret, "http://localhost/oidc/callback", domain);
        _beforeAuthorize = async () =>
        {
            var tenants = fixture.App.Get<TenantStore>();
            var claim = (await tenants.FindClaimAsync(domain, default))!;
            Assert.Equal(Sso.Functions.Storage.SaveOutcome.Saved, await tenants.SaveClaimAsync(claim,
                claim with { Status = DomainStatus.Verified, VerifiedAt = fixture.App.Clock.GetUtcNow() }, default));
        };

        var signIn = await SignInAsync(op, rpSecret, domain);

        var tokens = (await (await RedeemAsync(signIn, OidcTestFlow.Param(signIn.Final, "code"))).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("true", new JsonWebToken(tokens["id_token"]!.GetValue<string>()).GetClaim("email_verified").Value);
    }
}
