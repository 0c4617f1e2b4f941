using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Oidc;
using Sso.Functions.Storage.Secrets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Sso.Testing;

namespace Sso.Functions.Tests.Oidc;

public sealed class FakeOpFixture : SsoAppFixture, IAsyncLifetime
{
    public FakeOp Op { get; private set; } = null!;

    public new async Task InitializeAsync()
    {
        Op = await FakeOp.StartAsync();
        await base.InitializeAsync();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Op.DisposeAsync();
    }
}

public class OidcCallbackTests(FakeOpFixture fixture) : IClassFixture<FakeOpFixture>, IAsyncLifetime
{
    private readonly OidcTestFlow _flow = new(fixture.App);
    private FakeOp Op => fixture.Op;
    private string _tenantId = "";
    private string _connectionId = "";
    private string _clientId = "";
    private string _domain = "";

    /// <summary>A second connection of the tenant signs in only for the domains it lists (issue 18.6).</summary>
    private async Task AssignDomainAsync(string connectionId)
    {
        var patched = await _flow.Admin.PatchAsync($"/api/v1/tenants/{_tenantId}/connections/{connectionId}",
            JsonContent.Create(new JsonObject { ["domains"] = new JsonArray(_domain) }));
        Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());
    }

    public async Task InitializeAsync()
    {
        Op.IdToken = null;
        Op.TokenDelay = TimeSpan.Zero;
        var domain = _domain = OidcTestFlow.UniqueDomain();
        Op.DefaultEmail = "alice@" + domain;
        _tenantId = await _flow.CreateTenantAsync(domain);
        (_clientId, _) = await _flow.CreateClientAsync();
        _connectionId = (await _flow.CreateConnectionAsync(_tenantId, Op.Issuer, FakeOp.ClientId, FakeOp.ClientSecret))["id"]!.GetValue<string>();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private DateTimeOffset Now => fixture.App.Clock.GetUtcNow();

    private async Task<(string State, string Nonce, Uri IdpUrl)> StartAsync()
    {
        var idpUrl = await _flow.StartAsync(_tenantId, _connectionId, _clientId);
        return (OidcTestFlow.Param(idpUrl, "state"), OidcTestFlow.Param(idpUrl, "nonce"), idpUrl);
    }

    private string Query(string state, string code = "code-1") =>
        $"code={Uri.EscapeDataString(code + Guid.NewGuid().ToString("N"))}&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(Op.Issuer)}";

    [Fact]
    public async Task Redirects_to_the_IdP_with_code_flow_PKCE_state_and_nonce()
    {
        var (state, nonce, url) = await StartAsync();

        Assert.Equal(Op.Issuer + "/authorize", url.GetLeftPart(UriPartial.Path));
        Assert.Equal("code", OidcTestFlow.Param(url, "response_type"));
        Assert.Equal(FakeOp.ClientId, OidcTestFlow.Param(url, "client_id"));
        Assert.Equal("http://localhost/oidc/callback", OidcTestFlow.Param(url, "redirect_uri"));
        Assert.Equal("openid email profile", OidcTestFlow.Param(url, "scope"));
        Assert.Equal("S256", OidcTestFlow.Param(url, "code_challenge_method"));
        Assert.Equal(43, OidcTestFlow.Param(url, "code_challenge").Length);
        Assert.StartsWith(_connectionId + ".", state);
        Assert.True(nonce.Length >= 43);
        Assert.NotEqual("client-nonce", nonce);
        Assert.NotEqual("client-state-1", state);
    }

    [Fact]
    public async Task Completes_a_sign_in_and_sends_the_verifier_and_basic_credentials_to_the_IdP()
    {
        var (state, nonce, url) = await StartAsync();
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, Now));

        var response = await _flow.CallbackAsync(Query(state));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(OidcTestFlow.ClientRedirectUri + "?", location.AbsoluteUri);
        Assert.True(OidcTestFlow.ParamOrNull(location, "code") is { Length: > 0 }, location.Query);
        Assert.Equal("client-state-1", OidcTestFlow.Param(location, "state"));
        Assert.Null(OidcTestFlow.ParamOrNull(location, "error"));

        var verifier = Op.LastTokenForm["code_verifier"];
        Assert.Equal(OidcTestFlow.Param(url, "code_challenge"),
            System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        Assert.Equal("http://localhost/oidc/callback", Op.LastTokenForm["redirect_uri"]);
        Assert.False(Op.LastTokenForm.ContainsKey("client_secret"));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{FakeOp.ClientId}:{FakeOp.ClientSecret}")),
            Op.LastTokenAuthorization);
    }

    [Fact]
    public async Task The_verifier_turns_an_authorization_response_into_an_identity_without_an_HTTP_request_of_ours()
    {
        var (state, nonce, _) = await StartAsync();
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, Now));
        var pending = (await fixture.App.Get<Sso.Functions.OAuth.PendingSignInStore>().FindAsync(state, default))!.Value.PendingSignIn;
        var connection = await fixture.App.Get<Sso.Functions.Connections.ConnectionStore>().FindAsync(
            new Sso.Functions.Storage.TenantId(_tenantId), new Sso.Functions.Connections.ConnectionId(_connectionId), default);
        var config = OidcConnectionConfig.From(connection!)!;
        var verifier = fixture.App.Get<OidcSignInVerifier>();

        var twoCodes = await verifier.VerifyAsync(pending, config, new OidcAuthorizationResponse([Op.Issuer], "", ["code-a", "code-b"]), default);
        Assert.False(twoCodes.IsSuccess);
        Assert.Equal(Sso.Protocols.Oidc.OidcFailureKind.TokenResponseMalformed, twoCodes.Error.Failure.Kind);

        var verified = await verifier.VerifyAsync(pending, config, new OidcAuthorizationResponse([Op.Issuer], "", ["code-1"]), default);
        Assert.True(verified.IsSuccess, verified.ToString());
        Assert.Equal(Op.DefaultEmail, verified.Value.Email);
        Assert.Equal(Op.Issuer, verified.Value.Issuer);
    }

    [Fact]
    public async Task Merges_userinfo_when_the_id_token_has_no_email()
    {
        var (state, nonce, _) = await StartAsync();
        var claims = Op.Claims(nonce, Now);
        claims.Remove("email");
        claims.Remove("name");
        Op.IdToken = () => Op.Sign(claims);
        Op.UserInfo = new JsonObject { ["sub"] = "fake-user-1", ["email"] = Op.DefaultEmail, ["email_verified"] = true, ["name"] = "Alice" };

        var response = await _flow.CallbackAsync(Query(state));
        Assert.NotEmpty(OidcTestFlow.Param(response.Headers.Location!, "code"));
    }

    [Fact]
    public async Task Refuses_userinfo_about_another_subject()
    {
        var (state, nonce, _) = await StartAsync();
        var claims = Op.Claims(nonce, Now);
        claims.Remove("email");
        Op.IdToken = () => Op.Sign(claims);
        Op.UserInfo = new JsonObject { ["sub"] = "someone-else", ["email"] = "ceo@acme.test" };

        OidcTestFlow.AssertErrorRedirect(await _flow.CallbackAsync(Query(state)), "access_denied", "idp_response_rejected");
    }

    public static TheoryData<string> TokenNegatives => new()
    {
        "wrong audience", "wrong nonce", "expired", "unknown key", "alg none", "wrong issuer", "signed by another key",
    };

    [Theory]
    [MemberData(nameof(TokenNegatives))]
    public async Task Refuses_a_bad_id_token_with_an_OAuth_error_on_the_redirect_uri(string @case)
    {
        var (state, nonce, _) = await StartAsync();
        var claims = Op.Claims(nonce, Now);
        using var other = RSA.Create(2048);
        Op.IdToken = @case switch
        {
            "wrong audience" => () => { claims["aud"] = "another-client"; return Op.Sign(claims); },
            "wrong nonce" => () => { claims["nonce"] = "not-the-nonce"; return Op.Sign(claims); },
            "expired" => () => { claims["iat"] = Now.AddHours(-2).ToUnixTimeSeconds(); claims["exp"] = Now.AddHours(-1).ToUnixTimeSeconds(); return Op.Sign(claims); },
            "unknown key" => () => Op.Sign(claims, other, "not-published"),
            "alg none" => () => FakeOp.Unsigned(claims),
            "wrong issuer" => () => { claims["iss"] = "https://evil.example.com"; return Op.Sign(claims); },
            "signed by another key" => () => Op.Sign(claims, other),
            _ => throw new ArgumentOutOfRangeException(nameof(@case)),
        };

        var response = await _flow.CallbackAsync(Query(state));

        OidcTestFlow.AssertErrorRedirect(response, "access_denied", "idp_response_rejected");
    }

    [Fact]
    public async Task Refetches_the_JWKS_once_when_the_IdP_rotated_its_key()
    {
        // Its own IdP: the JWKS cache is per issuer and this test moves the clock on it.
        await using var op = await FakeOp.StartAsync();
        op.DefaultEmail = Op.DefaultEmail;
        var connectionId = (await _flow.CreateConnectionAsync(_tenantId, op.Issuer, FakeOp.ClientId, FakeOp.ClientSecret))["id"]!.GetValue<string>();
        await AssignDomainAsync(connectionId);
        async Task<HttpResponseMessage> SignInAsync(Func<string, string> token)
        {
            var url = await _flow.StartAsync(_tenantId, connectionId, _clientId);
            var nonce = OidcTestFlow.Param(url, "nonce");
            op.IdToken = () => token(nonce);
            return await _flow.CallbackAsync(
                $"code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(OidcTestFlow.Param(url, "state"))}&iss={Uri.EscapeDataString(op.Issuer)}");
        }

        Assert.NotEmpty(OidcTestFlow.Param((await SignInAsync(n => op.Sign(op.Claims(n, Now)))).Headers.Location!, "code"));
        Assert.Equal(1, op.JwksRequests);

        // The IdP rotates (same key material, new kid: what matters is that the cached JWKS lacks it).
        op.Kid = "fake-key-2";
        fixture.App.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.NotEmpty(OidcTestFlow.Param((await SignInAsync(n => op.Sign(op.Claims(n, Now)))).Headers.Location!, "code"));
        Assert.Equal(2, op.JwksRequests);

        // A forged kid right after does not make the service fetch again (rate limit).
        using var other = RSA.Create(2048);
        OidcTestFlow.AssertErrorRedirect(await SignInAsync(n => op.Sign(op.Claims(n, Now), other, "forged-kid")),
            "access_denied", "idp_response_rejected");
        Assert.Equal(2, op.JwksRequests);
    }

    [Fact]
    public async Task Refetches_the_JWKS_when_the_IdP_rotates_seconds_after_the_last_fetch()
    {
        var (op, connectionId) = await OwnOpAsync();
        await using var _ = op;

        Assert.NotEmpty(OidcTestFlow.Param((await SignInWithAsync(op, connectionId, n => op.Sign(op.Claims(n, Now)))).Headers.Location!, "code"));
        Assert.Equal(1, op.JwksRequests);

        // The IdP publishes a new key and drops the old one one second later: no minutes-long wait.
        op.Kid = "fake-key-2";
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.NotEmpty(OidcTestFlow.Param((await SignInWithAsync(op, connectionId, n => op.Sign(op.Claims(n, Now)))).Headers.Location!, "code"));
        Assert.Equal(2, op.JwksRequests);
    }

    [Fact]
    public async Task A_sign_in_refused_for_a_forged_kid_does_not_use_up_the_refetch_a_rotation_needs()
    {
        var (op, connectionId) = await OwnOpAsync();
        await using var _ = op;
        Assert.NotEmpty(OidcTestFlow.Param((await SignInWithAsync(op, connectionId, n => op.Sign(op.Claims(n, Now)))).Headers.Location!, "code"));

        fixture.App.Clock.Advance(TimeSpan.FromSeconds(10));
        using var other = RSA.Create(2048);
        OidcTestFlow.AssertErrorRedirect(await SignInWithAsync(op, connectionId, n => op.Sign(op.Claims(n, Now), other, "forged-kid")),
            "access_denied", "idp_response_rejected");
        Assert.Equal(2, op.JwksRequests);

        // The IdP's real rotation a second later still gets its refetch.
        op.Kid = "fake-key-2";
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.NotEmpty(OidcTestFlow.Param((await SignInWithAsync(op, connectionId, n => op.Sign(op.Claims(n, Now)))).Headers.Location!, "code"));
        Assert.Equal(3, op.JwksRequests);
    }

    [Fact]
    public async Task A_stream_of_forged_kids_makes_at_most_a_few_JWKS_fetches_a_minute()
    {
        var (op, connectionId) = await OwnOpAsync();
        await using var _ = op;
        Assert.NotEmpty(OidcTestFlow.Param((await SignInWithAsync(op, connectionId, n => op.Sign(op.Claims(n, Now)))).Headers.Location!, "code"));
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(10));

        using var other = RSA.Create(2048);
        for (var i = 0; i < 10; i++)
            OidcTestFlow.AssertErrorRedirect(await SignInWithAsync(op, connectionId, n => op.Sign(op.Claims(n, Now), other, $"forged-{i}")),
                "access_denied", "idp_response_rejected");

        Assert.Equal(1 + Sso.Functions.Oidc.OidcProviderCache.NewKidRefetchesPerMinute, op.JwksRequests);
    }

    /// <summary>An OP of the test's own (the JWKS cache is per issuer and these tests move the clock on it) and a connection to it.</summary>
    private async Task<(FakeOp Op, string ConnectionId)> OwnOpAsync()
    {
        var op = await FakeOp.StartAsync();
        op.DefaultEmail = Op.DefaultEmail;
        var connectionId = (await _flow.CreateConnectionAsync(_tenantId, op.Issuer, FakeOp.ClientId, FakeOp.ClientSecret))["id"]!.GetValue<string>();
        await AssignDomainAsync(connectionId);
        return (op, connectionId);
    }

    private async Task<HttpResponseMessage> SignInWithAsync(FakeOp op, string connectionId, Func<string, string> token)
    {
        var url = await _flow.StartAsync(_tenantId, connectionId, _clientId);
        var nonce = OidcTestFlow.Param(url, "nonce");
        op.IdToken = () => token(nonce);
        return await _flow.CallbackAsync(
            $"code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(OidcTestFlow.Param(url, "state"))}&iss={Uri.EscapeDataString(op.Issuer)}");
    }

    [Fact]
    public async Task Accepts_a_state_once_only()
    {
        var (state, nonce, _) = await StartAsync();
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, Now));
        var query = Query(state);
        Assert.NotEmpty(OidcTestFlow.Param((await _flow.CallbackAsync(query)).Headers.Location!, "code"));

        var replay = await _flow.CallbackAsync(query);

        // The pending sign-in is gone, so there is no redirect URI left to trust: a page, no code.
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Null(replay.Headers.Location);
        Assert.Contains("expired or was already completed", await replay.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("state=not-a-handle")]
    [InlineData("state=con_00000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&code=x")]
    public async Task Answers_an_unknown_state_with_a_page_and_no_redirect(string query)
    {
        var response = await _flow.CallbackAsync(query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Refuses_a_replayed_IdP_code_under_a_fresh_state()
    {
        var (state, nonce, _) = await StartAsync();
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, Now));
        var code = "replayed-" + Guid.NewGuid().ToString("N");
        var first = await _flow.CallbackAsync($"code={code}&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(Op.Issuer)}");
        Assert.NotEmpty(OidcTestFlow.Param(first.Headers.Location!, "code"));

        (state, nonce, _) = await StartAsync();
        var second = await _flow.CallbackAsync($"code={code}&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(Op.Issuer)}");

        OidcTestFlow.AssertErrorRedirect(second, "access_denied", "idp_response_rejected");
    }

    [Theory]
    [InlineData("access_denied", "access_denied")]
    [InlineData("login_required", "login_required")]
    [InlineData("something_odd", "access_denied")]
    public async Task Passes_an_IdP_error_to_the_client_with_its_state(string idpError, string expected)
    {
        var (state, _, _) = await StartAsync();
        var response = await _flow.CallbackAsync(
            $"error={idpError}&error_description=User+cancelled&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(Op.Issuer)}");
        OidcTestFlow.AssertErrorRedirect(response, expected, "idp_error");
    }

    [Theory]
    [InlineData("https://evil.example.com")]
    [InlineData(null)]
    public async Task Refuses_a_response_whose_RFC_9207_iss_is_wrong_or_missing(string? iss)
    {
        var (state, nonce, _) = await StartAsync();
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, Now));
        var tokenRequests = Op.TokenRequests;
        var query = $"code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(state)}" + (iss is null ? "" : "&iss=" + Uri.EscapeDataString(iss));

        OidcTestFlow.AssertErrorRedirect(await _flow.CallbackAsync(query), "access_denied", "idp_response_rejected");
        // Mix-up defence: the code is never sent to a token endpoint.
        Assert.Equal(tokenRequests, Op.TokenRequests);
    }

    [Fact]
    public async Task Refuses_a_sign_in_whose_client_secret_is_gone_from_the_secret_store()
    {
        var (state, nonce, _) = await StartAsync();
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, Now));
        var secrets = fixture.App.Get<ISecretStore>();
        var name = OidcConnectionSetup.ClientSecretName(new Sso.Functions.Connections.ConnectionId(_connectionId));
        await secrets.DeleteAsync(name, default);

        OidcTestFlow.AssertErrorRedirect(await _flow.CallbackAsync(Query(state)), "access_denied", "idp_response_rejected");
    }

    [Theory]
    [InlineData("9188040d-6c67-4c5b-b112-36a304b66dad", true)]
    [InlineData("00000000-0000-0000-0000-000000000001", false)]
    public async Task Admits_only_the_listed_Entra_tenants_through_a_multi_tenant_authority(string tid, bool admitted)
    {
        var body = new JsonObject
        {
            ["type"] = "oidc", ["issuer"] = Op.EntraAuthority, ["clientId"] = FakeOp.ClientId, ["clientSecret"] = FakeOp.ClientSecret,
            ["entraTenantIds"] = new JsonArray("9188040d-6c67-4c5b-b112-36a304b66dad"),
        };
        var connectionId = (await (await _flow.PostConnectionAsync(_tenantId, body)).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        await AssignDomainAsync(connectionId);
        var url = await _flow.StartAsync(_tenantId, connectionId, _clientId);
        var claims = Op.Claims(OidcTestFlow.Param(url, "nonce"), Now);
        claims["iss"] = Op.EntraIssuer(tid);
        claims["tid"] = tid;
        Op.IdToken = () => Op.Sign(claims);

        var response = await _flow.CallbackAsync(
            $"code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(OidcTestFlow.Param(url, "state"))}&iss={Uri.EscapeDataString(Op.EntraIssuer(tid))}");

        if (admitted) Assert.NotEmpty(OidcTestFlow.Param(response.Headers.Location!, "code"));
        else OidcTestFlow.AssertErrorRedirect(response, "access_denied", "idp_tenant_mismatch");
    }

    [Fact]
    public async Task Applies_the_sign_in_policy_a_user_not_provisioned_with_JIT_off_is_refused()
    {
        var domain = OidcTestFlow.UniqueDomain();
        var tenantId = await _flow.CreateTenantAsync(domain, jit: false);
        var connectionId = (await _flow.CreateConnectionAsync(tenantId, Op.Issuer, FakeOp.ClientId, FakeOp.ClientSecret))["id"]!.GetValue<string>();
        var url = await _flow.StartAsync(tenantId, connectionId, _clientId);
        Op.IdToken = () => Op.Sign(Op.Claims(OidcTestFlow.Param(url, "nonce"), Now, "alice@" + domain));

        var response = await _flow.CallbackAsync(
            $"code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(OidcTestFlow.Param(url, "state"))}&iss={Uri.EscapeDataString(Op.Issuer)}");

        OidcTestFlow.AssertErrorRedirect(response, "access_denied", "user_not_provisioned");
    }

    [Fact]
    public async Task Refuses_a_callback_when_the_connection_moved_to_another_IdP_mid_sign_in()
    {
        var (state, nonce, _) = await StartAsync();
        await using var other = await FakeOp.StartAsync();
        var patch = await _flow.Admin.PatchAsync($"/api/v1/tenants/{_tenantId}/connections/{_connectionId}",
            JsonContent.Create(new JsonObject { ["issuer"] = other.Issuer, ["clientSecret"] = FakeOp.ClientSecret }));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        other.IdToken = () => other.Sign(other.Claims(nonce, Now));

        var response = await _flow.CallbackAsync(
            $"code=c-{Guid.NewGuid():N}&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(other.Issuer)}");

        OidcTestFlow.AssertErrorRedirect(response, "access_denied", "idp_response_rejected");
        Assert.Equal(0, other.TokenRequests);
    }

    [Fact]
    public async Task Sends_the_browser_back_with_temporarily_unavailable_when_the_token_endpoint_stalls()
    {
        var (state, nonce, _) = await StartAsync();
        Op.IdToken = () => Op.Sign(Op.Claims(nonce, Now));
        Op.TokenDelay = TimeSpan.FromMinutes(5);
        var requestsBefore = Volatile.Read(ref Op.TokenRequests);

        var callback = _flow.CallbackAsync(Query(state));
        await Poll.UntilAsync(() => Volatile.Read(ref Op.TokenRequests) > requestsBefore, TimeSpan.FromSeconds(30),
            () => "the token request never reached the IdP");
        fixture.App.Clock.Advance(Sso.Functions.Oidc.IdpHttpClient.Timeout);
        var response = await callback.WaitAsync(TimeSpan.FromSeconds(30));

        OidcTestFlow.AssertErrorRedirect(response, "temporarily_unavailable", "idp_unavailable");
    }

    [Fact]
    public async Task Logs_no_token_code_secret_or_email_during_a_sign_in()
    {
        var logs = new CapturedLogs();
        await using var app = fixture.App.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(logs)));
        var browser = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var (state, nonce, _) = await StartAsync();
        string? idToken = null;
        Op.IdToken = () => idToken = Op.Sign(Op.Claims(nonce, Now));
        var idpCode = "idp-code-" + Guid.NewGuid().ToString("N");

        var ok = await browser.GetAsync($"/oidc/callback?code={idpCode}&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(Op.Issuer)}");
        var code = OidcTestFlow.Param(ok.Headers.Location!, "code");
        Assert.NotEmpty(code);
        (state, nonce, _) = await StartAsync();
        Op.IdToken = () => { var c = Op.Claims(nonce, Now); c["aud"] = "x"; return Op.Sign(c); };
        await browser.GetAsync($"/oidc/callback?code={idpCode}2&state={Uri.EscapeDataString(state)}&iss={Uri.EscapeDataString(Op.Issuer)}");

        var text = logs.Text;
        Assert.Contains("OIDC response rejected: AudienceMismatch", text);
        foreach (var secret in new[] { idToken!, idpCode, code, FakeOp.ClientSecret, Op.DefaultEmail, nonce, state })
            Assert.DoesNotContain(secret, text);
    }
}

internal sealed class CapturedLogs : Microsoft.Extensions.Logging.ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public string Text => string.Join("\n", _lines);

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state,
            Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue(formatter(state, exception) + " " + exception);
    }
}
