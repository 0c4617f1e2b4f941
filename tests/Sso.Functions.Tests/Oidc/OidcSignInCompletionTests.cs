using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Functions.Oidc;

namespace Sso.Functions.Tests.Oidc;

/// <summary>The OIDC callback's completion called as an operation, with no HTTP request of ours around it.</summary>
public class OidcSignInCompletionTests(FakeOpFixture fixture) : IClassFixture<FakeOpFixture>
{
    private readonly OidcTestFlow _flow = new(fixture.App);
    private FakeOp Op => fixture.Op;
    private OidcSignInCompletion Completion => fixture.App.Get<OidcSignInCompletion>();

    [Fact]
    public async Task Answers_a_state_that_names_no_pending_sign_in_with_the_expired_page_and_no_tenant()
    {
        var completion = await Completion.CompleteAsync(
            new OidcCallback(PendingSignIn.NewHandle(ConnectionId.New()), [Op.Issuer], "", ["code-1"]), default);

        var page = Assert.IsType<SignInCompletion.Page>(completion);
        Assert.Equal(400, page.Status);
        Assert.Equal("Sign-in expired", page.Title);
        Assert.Null(page.TenantId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-handle")]
    public async Task Answers_a_missing_or_foreign_state_with_the_failed_page(string? state)
    {
        var page = Assert.IsType<SignInCompletion.Page>(await Completion.CompleteAsync(new OidcCallback(state, [], "", []), default));
        Assert.Equal(400, page.Status);
        Assert.Equal("Sign-in failed", page.Title);
    }

    [Fact]
    public async Task Completes_a_sign_in_with_a_code_for_the_client_once()
    {
        var domain = OidcTestFlow.UniqueDomain();
        Op.DefaultEmail = "alice@" + domain;
        var tenantId = await _flow.CreateTenantAsync(domain);
        var (clientId, _) = await _flow.CreateClientAsync();
        var connectionId = (await _flow.CreateConnectionAsync(tenantId, Op.Issuer, FakeOp.ClientId, FakeOp.ClientSecret))["id"]!.GetValue<string>();
        var idpUrl = await _flow.StartAsync(tenantId, connectionId, clientId);
        var nonce = OidcTestFlow.Param(idpUrl, "nonce");
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, fixture.App.Clock.GetUtcNow()));
        var callback = new OidcCallback(OidcTestFlow.Param(idpUrl, "state"), [Op.Issuer], "", ["code-" + Guid.NewGuid().ToString("N")]);

        var issued = Assert.IsType<SignInCompletion.CodeIssued>(await Completion.CompleteAsync(callback, default));
        Assert.Equal(OidcTestFlow.ClientRedirectUri, issued.RedirectUri);
        Assert.Equal("client-state-1", issued.State);
        Assert.Equal(tenantId, issued.TenantId?.Value);
        Assert.NotEmpty(issued.Code);

        var again = Assert.IsType<SignInCompletion.Page>(await Completion.CompleteAsync(callback, default));
        Assert.Equal("Sign-in expired", again.Title);
    }
}
