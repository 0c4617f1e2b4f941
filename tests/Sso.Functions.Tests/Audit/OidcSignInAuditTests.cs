using System.Net;
using Sso.Functions.Audit;
using Sso.Functions.Tests.Oidc;

namespace Sso.Functions.Tests.Audit;

public class OidcSignInAuditTests(AuditFixture fixture) : IClassFixture<AuditFixture>
{
    private readonly OidcTestFlow _flow = new(fixture.App);
    private FakeOp Op => fixture.Op;

    [Fact]
    public async Task Records_oidc_sign_ins_with_the_reason_and_failure_kind_of_a_refusal()
    {
        var domain = OidcTestFlow.UniqueDomain();
        var tenantId = await _flow.CreateTenantAsync(domain);
        var (clientId, _) = await _flow.CreateClientAsync();
        var connectionId = (await _flow.CreateConnectionAsync(tenantId, Op.Issuer, FakeOp.ClientId, FakeOp.ClientSecret))["id"]!
            .GetValue<string>();
        var now = fixture.App.Clock.GetUtcNow();

        async Task<HttpResponseMessage> SignInAsync(Func<string, string> idToken)
        {
            var idpUrl = await _flow.StartAsync(tenantId, connectionId, clientId);
            var nonce = OidcTestFlow.Param(idpUrl, "nonce");
            Op.IdToken = () => idToken(nonce);
            return await _flow.CallbackAsync($"code=c{Guid.NewGuid():N}&state={Uri.EscapeDataString(OidcTestFlow.Param(idpUrl, "state"))}"
                                             + $"&iss={Uri.EscapeDataString(Op.Issuer)}");
        }

        var accepted = await SignInAsync(nonce => Op.Sign(Op.Claims(nonce, now, "carol@" + domain)));
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        var refused = await SignInAsync(_ => Op.Sign(Op.Claims("not-the-nonce", now, "carol@" + domain)));
        OidcTestFlow.AssertErrorRedirect(refused, "access_denied", "idp_response_rejected");

        var rows = await AuditTestRows.ReadAllAsync(fixture.App, tenantId, AuditTypes.SignInAttempt);

        Assert.Equal(["failure", "success"], rows.Select(r => r["result"]!.GetValue<string>()));
        Assert.Equal("idp_response_rejected", rows[0]["reason"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(rows[0]["failureKind"]?.GetValue<string>()));
        Assert.All(rows, r => Assert.Equal(connectionId, r["connectionId"]!.GetValue<string>()));
        Assert.Equal(domain, rows[1]["emailDomain"]!.GetValue<string>());
        var stored = AuditTestRows.EverythingStored(fixture.App);
        Assert.DoesNotContain("carol@", stored);
        Assert.DoesNotContain(FakeOp.ClientSecret, stored);
    }

    [Fact]
    public async Task Records_an_unverified_email_refusal_with_its_reason()
    {
        var domain = OidcTestFlow.UniqueDomain();
        var tenantId = await _flow.CreateTenantAsync(domain);
        var (clientId, _) = await _flow.CreateClientAsync();
        var connectionId = (await _flow.CreateConnectionAsync(tenantId, Op.Issuer, FakeOp.ClientId, FakeOp.ClientSecret))["id"]!
            .GetValue<string>();
        var idpUrl = await _flow.StartAsync(tenantId, connectionId, clientId);
        var claims = Op.Claims(OidcTestFlow.Param(idpUrl, "nonce"), fixture.App.Clock.GetUtcNow(), "dave@" + domain);
        claims["email_verified"] = false;
        Op.IdToken = () => Op.Sign(claims);

        var refused = await _flow.CallbackAsync($"code=c{Guid.NewGuid():N}&state={Uri.EscapeDataString(OidcTestFlow.Param(idpUrl, "state"))}"
                                                + $"&iss={Uri.EscapeDataString(Op.Issuer)}");

        OidcTestFlow.AssertErrorRedirect(refused, "access_denied", "email_not_verified");
        var row = Assert.Single(await AuditTestRows.ReadAllAsync(fixture.App, tenantId, AuditTypes.SignInAttempt));
        Assert.Equal("failure", row["result"]!.GetValue<string>());
        Assert.Equal("email_not_verified", row["reason"]!.GetValue<string>());
        Assert.Equal("EmailNotVerified", row["failureKind"]!.GetValue<string>());
        Assert.DoesNotContain("dave@", AuditTestRows.EverythingStored(fixture.App));
    }
}
