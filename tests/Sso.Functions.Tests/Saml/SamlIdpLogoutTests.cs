using System.Net;
using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Functions.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>The SLO URL's work called as an operation, with samlify's own LogoutRequest and no HTTP request of ours around it.</summary>
public class SamlIdpLogoutTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task A_samlify_LogoutRequest_revokes_the_users_tokens_once_and_answers_with_a_post_to_the_IdP()
    {
        await using var setup = await SingleLogoutEndToEndTests.Setup.CreateAsync(fixture.App);
        var view = await setup.AddConnectionAsync();
        var session = await setup.SignInAsync(view);
        var connection = (await fixture.App.Get<ConnectionStore>().FindByIdAsync(new ConnectionId(view.Id), default))!;
        var idpRequest = await setup.Idp.LogoutUserAsync(view.SpEntityId, "post");
        var message = new SamlLogoutMessage.Post(idpRequest.SamlRequest, "", idpRequest.RelayState);
        var logout = fixture.App.Get<SamlIdpLogout>();

        var answer = Assert.IsType<SamlLogoutOutcome.ToIdp>(await logout.ReceiveAsync(connection, message, default));
        var form = Assert.IsType<IdpRequest.PostForm>(answer.Request);
        Assert.StartsWith(setup.Idp.SloUrl, form.Destination);
        Assert.Contains("SAMLResponse", form.Html);
        Assert.Equal(HttpStatusCode.Unauthorized, await setup.UserInfoStatusAsync(session.AccessToken));

        var replayed = Assert.IsType<SamlLogoutOutcome.Page>(await logout.ReceiveAsync(connection, message, default));
        Assert.Equal(400, replayed.Status);
        Assert.Contains("already processed", replayed.Message);
    }

    [Fact]
    public async Task Refuses_a_message_that_is_neither_request_nor_response_with_the_400_page()
    {
        await using var setup = await SingleLogoutEndToEndTests.Setup.CreateAsync(fixture.App);
        var view = await setup.AddConnectionAsync();
        var connection = (await fixture.App.Get<ConnectionStore>().FindByIdAsync(new ConnectionId(view.Id), default))!;

        var page = Assert.IsType<SamlLogoutOutcome.Page>(
            await fixture.App.Get<SamlIdpLogout>().ReceiveAsync(connection, new SamlLogoutMessage.Redirect("RelayState=x", false, false), default));
        Assert.Equal(400, page.Status);
        Assert.Equal("Sign-out failed", page.Title);
    }
}
