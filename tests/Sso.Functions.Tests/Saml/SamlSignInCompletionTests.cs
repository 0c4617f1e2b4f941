using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Functions.Saml;
using Sso.Functions.Tests.Audit;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>The ACS's completion called as an operation, with no HTTP request of ours around it.</summary>
public class SamlSignInCompletionTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    private async Task<Connection> ConnectionAsync(SignInFlow flow) =>
        (await fixture.App.Get<ConnectionStore>().FindByIdAsync(new ConnectionId(flow.ConnectionId), default))!;

    [Fact]
    public async Task Issues_a_code_and_refuses_the_replayed_assertion_with_an_error_for_the_client()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var patch = await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}",
            JsonContent.Create(new JsonObject
            {
                ["idpInitiated"] = new JsonObject { ["enabled"] = true, ["clientId"] = flow.ClientId, ["redirectUri"] = SignInFlow.RedirectUri },
            }));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var connection = await ConnectionAsync(flow);
        var completion = fixture.App.Get<SamlSignInCompletion>();
        // IdP-initiated: no pending sign-in to use up, so only the assertion ID's single use stops the second post.
        var post = new SamlPost(flow.Idp.SignedResponse(flow.Assertion(null)), null);

        var issued = Assert.IsType<SignInCompletion.CodeIssued>(await completion.CompleteAsync(connection, post, default));
        Assert.Equal(SignInFlow.RedirectUri, issued.RedirectUri);
        Assert.Equal(flow.TenantId, issued.TenantId?.Value);
        Assert.NotEmpty(issued.Code);

        var refused = Assert.IsType<SignInCompletion.Refused>(await completion.CompleteAsync(connection, post, default));
        Assert.Equal("access_denied", refused.Error);
        Assert.Equal(SignInRefusals.IdpResponseRejected, refused.ErrorDescription);
        Assert.Equal(SignInFlow.RedirectUri, refused.RedirectUri);

        // The audit row keeps the asserted email's domain, though no HTTP request carried it.
        var rows = await AuditTestRows.ReadAllAsync(fixture.App, flow.TenantId, AuditTypes.SignInAttempt);
        var replayed = Assert.Single(rows, r => r["failureKind"]?.GetValue<string>() == "Replayed");
        Assert.Equal(flow.Domain, replayed["emailDomain"]!.GetValue<string>());
    }

    [Fact]
    public async Task Answers_a_RelayState_it_does_not_know_with_the_400_page_for_the_tenant()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var connection = await ConnectionAsync(flow);
        var (requestId, relayState) = await flow.StartAsync("s", SignInFlow.NewPkce().Challenge);
        var response = flow.Idp.SignedResponse(flow.Assertion(requestId));
        var completion = fixture.App.Get<SamlSignInCompletion>();
        Assert.IsType<SignInCompletion.CodeIssued>(await completion.CompleteAsync(connection, new SamlPost(response, relayState), default));

        var again = Assert.IsType<SignInCompletion.Page>(
            await completion.CompleteAsync(connection, new SamlPost(response, relayState), default));
        Assert.Equal(400, again.Status);
        Assert.Equal(flow.TenantId, again.TenantId?.Value);
        Assert.Contains("already completed", again.Message);
    }
}
