using System.Web;
using Sso.Functions.OperatorConsole;
using Sso.Functions.Tests.Oidc;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>The console's OpenID Connect sign-in called as an operation against the npm oidc-provider, with no HTTP request of ours around it.</summary>
public class ConsoleOidcAuthenticationTests
{
    private const string ClientId = "sso-console";
    private const string Domain = "ops.example.test";

    private static async Task<(ConsoleApp Console, OidcProviderPeer Op)> StartAsync()
    {
        var port = Sso.Testing.AzuriteServer.FreePort();
        var secret = "console-secret-" + Guid.NewGuid().ToString("N");
        var op = await OidcProviderPeer.StartAsync(ClientId, secret, $"http://127.0.0.1:{port}" + ConsoleOidcSignIn.CallbackPath, Domain);
        var console = await ConsoleApp.StartAsync(new Dictionary<string, string?>
        {
            ["Console:Oidc:Issuer"] = op.Issuer,
            ["Console:Oidc:ClientId"] = ClientId,
            ["Console:Oidc:ClientSecret"] = secret,
            ["Console:Oidc:AllowedEmails"] = "alice@" + Domain,
        }, port);
        return (console, op);
    }

    [Fact]
    public async Task StartAsync_keeps_a_pending_sign_in_and_sends_the_operator_to_the_providers_authorization_endpoint()
    {
        var (console, op) = await StartAsync();
        await using var _ = console;
        await using var __ = op;
        var authentication = console.App.Get<ConsoleOidcAuthentication>();

        var started = await authentication.StartAsync("/console/tenants", default);

        Assert.True(started.IsSuccess, started.ToString());
        var url = new Uri(started.Value.Url);
        Assert.StartsWith(op.Issuer, url.AbsoluteUri);
        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal(started.Value.State, query["state"]);
        Assert.Equal(ClientId, query["client_id"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        var pending = await console.App.Get<ConsoleSessionStore>().TakePendingAsync(ConsoleOidcAuthentication.HashOf(started.Value.State), default);
        Assert.Equal("/console/tenants", pending?.ReturnPath);
    }

    [Fact]
    public async Task CompleteAsync_refuses_a_state_this_browser_did_not_keep_and_an_IdP_error_and_uses_the_pending_sign_in_up()
    {
        var (console, op) = await StartAsync();
        await using var _ = console;
        await using var __ = op;
        var authentication = console.App.Get<ConsoleOidcAuthentication>();
        var started = (await authentication.StartAsync("/console/tenants", default)).Value;

        var foreign = await authentication.CompleteAsync(new ConsoleOidcCallback(null, started.State, [], "", "code-1"), default);
        Assert.False(foreign.IsSuccess);
        Assert.Equal((400, "state mismatch"), (foreign.Error.Status, foreign.Error.Outcome));

        var denied = await authentication.CompleteAsync(new ConsoleOidcCallback(started.State, started.State, [op.Issuer], "access_denied", ""), default);
        Assert.False(denied.IsSuccess);
        Assert.Equal((403, "idp error"), (denied.Error.Status, denied.Error.Outcome));

        var again = await authentication.CompleteAsync(new ConsoleOidcCallback(started.State, started.State, [op.Issuer], "", "code-1"), default);
        Assert.False(again.IsSuccess);
        Assert.Equal((400, "state unknown or expired"), (again.Error.Status, again.Error.Outcome));
    }
}
