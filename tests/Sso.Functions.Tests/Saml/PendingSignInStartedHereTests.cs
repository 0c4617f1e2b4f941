using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// The ACS takes a pending sign-in that its own instance started from memory, not from its row;
/// single use still holds across instances, since the transaction removes the row under the ETag
/// its write returned.
/// </summary>
public sealed class PendingSignInStartedHereTests : IAsyncLifetime
{
    private static readonly JsonObject Jit = new() { ["jitProvisioning"] = true };
    private SsoAppFactory _a = null!;
    private SsoAppFactory _b = null!;

    public async Task InitializeAsync()
    {
        _a = new SsoAppFactory(await AzuriteServer.Shared);
        _b = new SsoAppFactory(await AzuriteServer.Shared, sharedWith: _a);
        _ = _a.Server;
        _ = _b.Server;
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    private List<TableEntity> Rows(SignInFlow flow, string kind)
    {
        var table = new TableClient(_a.Azurite.ConnectionString, _a.TablePrefix + ConnectionSignInStore.TableName);
        return table.Query<TableEntity>(ConnectionSignInStore.PartitionsFilter(new ConnectionId(flow.ConnectionId)))
            .Where(r => r.RowKey.StartsWith(kind + "|", StringComparison.Ordinal)).ToList();
    }

    [Fact]
    public async Task A_sign_in_started_here_but_completed_on_another_instance_is_refused_here_and_writes_nothing()
    {
        var onA = await SignInFlow.CreateAsync(_a, Jit);
        var onB = onA.On(_b);
        var (requestId, relayState) = await onA.StartAsync("started-on-a", SignInFlow.NewPkce().Challenge);

        var completed = SignInFlow.CallbackParameters(await onB.PostAcsAsync(onB.Idp.SignedResponse(onB.Assertion(requestId)), relayState));
        Assert.True(completed.ContainsKey("code"));

        // A still holds the sign-in it started, with the ETag of its write; the row is gone.
        var again = await onA.PostAcsAsync(onA.Idp.SignedResponse(onA.Assertion(requestId)), relayState);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("already completed", await again.Content.ReadAsStringAsync());
        Assert.Single(Rows(onA, "code"));
        Assert.Single(Rows(onA, "session"));
        Assert.Single(Rows(onA, "assertion"));
    }

    [Fact]
    public async Task Two_posts_of_one_sign_in_to_the_instance_that_started_it_give_one_code()
    {
        var onA = await SignInFlow.CreateAsync(_a, Jit);
        var (requestId, relayState) = await onA.StartAsync("twice-on-a", SignInFlow.NewPkce().Challenge);

        // The first post takes the sign-in from memory, the second reads its row: both hold the same ETag.
        var posts = await Task.WhenAll(
            onA.PostAcsAsync(onA.Idp.SignedResponse(onA.Assertion(requestId)), relayState),
            onA.PostAcsAsync(onA.Idp.SignedResponse(onA.Assertion(requestId)), relayState));

        Assert.Single(posts, p => p.StatusCode == HttpStatusCode.Redirect);
        Assert.Single(posts, p => p.StatusCode == HttpStatusCode.BadRequest);
        Assert.Single(Rows(onA, "code"));
        Assert.Empty(Rows(onA, "pending"));
    }

    [Fact]
    public async Task A_sign_in_started_on_another_instance_is_completed_here_from_its_row()
    {
        var onA = await SignInFlow.CreateAsync(_a, Jit);
        var onB = onA.On(_b);
        var (requestId, relayState) = await onB.StartAsync("started-on-b", SignInFlow.NewPkce().Challenge);

        var completed = SignInFlow.CallbackParameters(await onA.PostAcsAsync(onA.Idp.SignedResponse(onA.Assertion(requestId)), relayState));

        Assert.Equal("started-on-b", completed["state"]);
        Assert.Single(Rows(onA, "code"));
        // B's copy in memory is now stale: a post there loses the transaction too.
        Assert.Equal(HttpStatusCode.BadRequest,
            (await onB.PostAcsAsync(onB.Idp.SignedResponse(onB.Assertion(requestId)), relayState)).StatusCode);
        Assert.Single(Rows(onA, "code"));
    }
}
