using System.Web;
using Microsoft.Extensions.DependencyInjection;
using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Functions.Oidc;
using Sso.Functions.Saml;
using Sso.Functions.Storage;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

/// <summary>
/// Authorize and the setup portal start a sign-in through the one starter registered for the
/// connection's type; OAuth names neither SAML nor OIDC.
/// </summary>
public class SignInStartersTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public void Each_connection_type_has_exactly_one_starter_in_the_container()
    {
        var starters = fixture.App.Services.GetServices<ISignInStarter>().ToList();
        Assert.IsType<SamlSignInStarter>(Assert.Single(starters, s => s.ConnectionType == ConnectionTypes.Saml));
        Assert.IsType<OidcSignInStarter>(Assert.Single(starters, s => s.ConnectionType == ConnectionTypes.Oidc));
        Assert.Equal(2, starters.Count);

        var byType = fixture.App.Get<SignInStarters>();
        Assert.Equal([ConnectionTypes.Oidc, ConnectionTypes.Saml], byType.ConnectionTypes.Order(StringComparer.Ordinal));
        Assert.IsType<SamlSignInStarter>(byType.For(ConnectionTypes.Saml));
        Assert.Null(byType.For("ldap"));

        Assert.IsType<SamlSingleLogout>(Assert.Single(fixture.App.Services.GetServices<ISingleLogout>()));
        Assert.Contains(fixture.App.Services.GetServices<ISignInRowSweep>(), s => s is AssertionReplayStore);
    }

    [Fact]
    public async Task The_SAML_starter_stores_the_pending_sign_in_and_returns_a_redirect_to_the_IdP_without_HTTP()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var connectionId = new ConnectionId(flow.ConnectionId);
        var connection = await fixture.App.Get<ConnectionStore>().FindAsync(new TenantId(flow.TenantId), connectionId, default);
        var now = fixture.App.Clock.GetUtcNow();
        var pending = new PendingSignIn
        {
            Handle = PendingSignIn.NewHandle(connectionId),
            ClientId = new ClientId(flow.ClientId),
            RedirectUri = SignInFlow.RedirectUri,
            State = "starter-state",
            Scope = "openid email",
            TenantId = new TenantId(flow.TenantId),
            ConnectionId = connectionId,
            CreatedAt = now,
            ExpiresAt = now + PendingSignIn.Lifetime,
        };

        var started = await fixture.App.Get<SignInStarters>().For(ConnectionTypes.Saml)!.StartAsync(pending, connection!, default);

        Assert.True(started.IsSuccess, started.ToString());
        var redirect = Assert.IsType<IdpRequest.Redirect>(started.Value);
        var url = new Uri(redirect.Url);
        Assert.Equal(pending.Handle, HttpUtility.ParseQueryString(url.Query)["RelayState"]);
        Assert.False(string.IsNullOrEmpty(HttpUtility.ParseQueryString(url.Query)["SAMLRequest"]));
        var stored = await fixture.App.Get<PendingSignInStore>().FindAsync(pending.Handle, default);
        Assert.NotNull(stored);
        Assert.False(string.IsNullOrEmpty(stored.Value.PendingSignIn.IdpString(SamlSignInStarter.AuthnRequestIdKey)));
    }

    [Fact]
    public async Task StartAsync_picks_the_starter_for_the_connection_type_and_answers_with_the_way_to_the_IdP()
    {
        var (pending, connection) = await PendingAsync("op-state");

        var started = await fixture.App.Get<SignInStarters>().StartAsync(pending, connection, default);

        Assert.True(started.IsSuccess, started.ToString());
        var url = new Uri(Assert.IsType<IdpRequest.Redirect>(started.Value).Url);
        Assert.Equal(pending.Handle, HttpUtility.ParseQueryString(url.Query)["RelayState"]);
        Assert.NotNull(await fixture.App.Get<PendingSignInStore>().FindAsync(pending.Handle, default));
    }

    [Fact]
    public async Task StartAsync_refuses_a_connection_type_without_a_starter_back_to_the_client_and_stores_nothing()
    {
        var (pending, connection) = await PendingAsync("op-refused");

        var started = await fixture.App.Get<SignInStarters>().StartAsync(pending, connection with { Type = "ldap" }, default);

        Assert.False(started.IsSuccess);
        var refused = Assert.IsType<SignInCompletion.Refused>(started.Error);
        Assert.Equal("server_error", refused.Error);
        Assert.Equal(SignInFlow.RedirectUri, refused.RedirectUri);
        Assert.Equal("op-refused", refused.State);
        Assert.Equal(pending.TenantId, refused.TenantId);
        Assert.Null(await fixture.App.Get<PendingSignInStore>().FindAsync(pending.Handle, default));
    }

    private async Task<(PendingSignIn Pending, Connection Connection)> PendingAsync(string state)
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var connectionId = new ConnectionId(flow.ConnectionId);
        var connection = await fixture.App.Get<ConnectionStore>().FindAsync(new TenantId(flow.TenantId), connectionId, default);
        var now = fixture.App.Clock.GetUtcNow();
        return (new PendingSignIn
        {
            Handle = PendingSignIn.NewHandle(connectionId),
            ClientId = new ClientId(flow.ClientId),
            RedirectUri = SignInFlow.RedirectUri,
            State = state,
            Scope = "openid email",
            TenantId = new TenantId(flow.TenantId),
            ConnectionId = connectionId,
            CreatedAt = now,
            ExpiresAt = now + PendingSignIn.Lifetime,
        }, connection!);
    }
}
