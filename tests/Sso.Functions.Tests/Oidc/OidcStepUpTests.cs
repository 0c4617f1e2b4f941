using Sso.Protocols.OAuth;
using Sso.Testing;

namespace Sso.Functions.Tests.Oidc;

/// <summary>
/// Issue 18.8, OIDC leg: the client's prompt=login / max_age go on to the IdP, and the id_token's
/// auth_time is checked on the way back (required when max_age was sent, OIDC Core §3.1.2.1).
/// </summary>
public class OidcStepUpTests(FakeOpFixture fixture) : IClassFixture<FakeOpFixture>, IAsyncLifetime
{
    private readonly OidcTestFlow _flow = new(fixture.App);
    private FakeOp Op => fixture.Op;
    private string _tenantId = "";
    private string _connectionId = "";
    private string _clientId = "";

    public async Task InitializeAsync()
    {
        Op.IdToken = null;
        Op.TokenDelay = TimeSpan.Zero;
        var domain = OidcTestFlow.UniqueDomain();
        Op.DefaultEmail = "alice@" + domain;
        _tenantId = await _flow.CreateTenantAsync(domain);
        (_clientId, _) = await _flow.CreateClientAsync();
        _connectionId = (await _flow.CreateConnectionAsync(_tenantId, Op.Issuer, FakeOp.ClientId, FakeOp.ClientSecret))["id"]!.GetValue<string>();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private DateTimeOffset Now => fixture.App.Clock.GetUtcNow();

    private async Task<(string State, string Nonce, Uri IdpUrl)> StartAsync(StepUpDemand demand)
    {
        var idpUrl = await _flow.StartAsync(_tenantId, _connectionId, _clientId, stepUp: demand);
        return (OidcTestFlow.Param(idpUrl, "state"), OidcTestFlow.Param(idpUrl, "nonce"), idpUrl);
    }

    private string Query(string state) =>
        $"code={Guid.NewGuid():N}&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(Op.Issuer)}";

    [Fact]
    public async Task Forwards_prompt_login_and_max_age_to_the_IdP()
    {
        var (_, _, plain) = await StartAsync(StepUpDemand.None);
        Assert.Null(OidcTestFlow.ParamOrNull(plain, "prompt"));
        Assert.Null(OidcTestFlow.ParamOrNull(plain, "max_age"));

        var (_, _, stepUp) = await StartAsync(new StepUpDemand(true, 300));
        Assert.Equal("login", OidcTestFlow.Param(stepUp, "prompt"));
        Assert.Equal("300", OidcTestFlow.Param(stepUp, "max_age"));
    }

    [Fact]
    public async Task Refuses_an_id_token_without_auth_time_when_max_age_was_sent()
    {
        var (state, nonce, _) = await StartAsync(new StepUpDemand(false, 300));
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, Now));

        OidcTestFlow.AssertErrorRedirect(await _flow.CallbackAsync(Query(state)), "access_denied", "stale_authentication");
    }

    [Fact]
    public async Task Refuses_an_IdP_that_ignored_prompt_login_and_reused_an_old_session()
    {
        var (state, nonce, _) = await StartAsync(new StepUpDemand(true, null));
        var claims = Op.Claims(nonce, Now);
        claims["auth_time"] = Now.AddHours(-2).ToUnixTimeSeconds();
        Op.IdToken = () => Op.Sign(claims);

        OidcTestFlow.AssertErrorRedirect(await _flow.CallbackAsync(Query(state)), "access_denied", "stale_authentication");
    }

    [Fact]
    public async Task Refuses_an_auth_time_older_than_max_age()
    {
        var (state, nonce, _) = await StartAsync(new StepUpDemand(false, 60));
        var claims = Op.Claims(nonce, Now);
        claims["auth_time"] = Now.AddMinutes(-10).ToUnixTimeSeconds();
        Op.IdToken = () => Op.Sign(claims);

        OidcTestFlow.AssertErrorRedirect(await _flow.CallbackAsync(Query(state)), "access_denied", "stale_authentication");
    }

    [Fact]
    public async Task Accepts_a_fresh_auth_time()
    {
        var (state, nonce, _) = await StartAsync(new StepUpDemand(true, 60));
        var claims = Op.Claims(nonce, Now);
        claims["auth_time"] = Now.ToUnixTimeSeconds();
        Op.IdToken = () => Op.Sign(claims);

        var response = await _flow.CallbackAsync(Query(state));

        Assert.NotEmpty(OidcTestFlow.Param(response.Headers.Location!, "code"));
    }
}
