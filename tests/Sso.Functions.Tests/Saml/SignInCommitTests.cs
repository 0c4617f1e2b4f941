using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.IdentityModel.JsonWebTokens;
using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Functions.Outbox;
using Sso.Functions.Saml;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// Issue 14: a SAML sign-in's writes (pending sign-in taken, assertion ID recorded, session, code and
/// its sso.login outbox row) commit in one transaction in the connection's partition of "signins".
/// </summary>
public class SignInCommitTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private static readonly JsonObject Jit = new() { ["jitProvisioning"] = true };

    private List<TableEntity> Rows(SignInFlow flow)
    {
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + ConnectionSignInStore.TableName);
        table.CreateIfNotExists();
        return table.Query<TableEntity>(ConnectionSignInStore.PartitionsFilter(new ConnectionId(flow.ConnectionId))).ToList();
    }

    private static int Count(List<TableEntity> rows, string kind) => rows.Count(r => r.RowKey.StartsWith(kind + "|", StringComparison.Ordinal));

    [Fact]
    public async Task Commits_the_pending_removal_assertion_session_code_and_event_together_in_the_connections_partition()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("s", SignInFlow.NewPkce().Challenge);
        var partition = ConnectionSignInStore.PartitionOf(new ConnectionId(flow.ConnectionId), relayState);
        Assert.Equal(partition, Assert.Single(Rows(flow), r => r.RowKey.StartsWith("pending|")).PartitionKey);

        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));

        Assert.StartsWith("sso_ac_" + flow.ConnectionId + ".", callback["code"]);
        Assert.Equal(partition, ConnectionSignInStore.PartitionOf(new ConnectionId(flow.ConnectionId), callback["code"]));
        var rows = Rows(flow);
        Assert.All(rows, r => Assert.Equal(partition, r.PartitionKey));
        Assert.Equal(0, Count(rows, "pending"));
        Assert.Equal(1, Count(rows, "assertion"));
        Assert.Equal(1, Count(rows, "session"));
        Assert.Equal(1, Count(rows, "samlname"));
        Assert.Equal(1, Count(rows, "code"));
        // The sso.login event committed with the code; the publisher then copies it to the feed and removes the outbox row.
        await fixture.App.FlushAsync();
        Assert.Equal(0, Count(Rows(flow), EventRecord.OutboxKind));
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(5));
        var feed = await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={flow.TenantId}&limit=1000");
        Assert.Contains(feed!["data"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "sso.login"
            && e["data"]!["outcome"]!.GetValue<string>() == "success");
    }

    [Fact]
    public async Task A_reused_RelayState_and_a_replayed_assertion_are_refused_and_write_nothing()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (requestId, relayState) = await flow.StartAsync("first", SignInFlow.NewPkce().Challenge);
        var assertion = flow.Assertion(requestId);
        Assert.True(SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(assertion), relayState)).ContainsKey("code"));
        await fixture.App.FlushAsync();
        var after = Rows(flow).Select(r => r.RowKey).Order().ToList();

        // The same RelayState again: the pending sign-in is gone, so the transaction fails as a whole.
        var again = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        await fixture.App.FlushAsync();
        Assert.Equal(after, Rows(flow).Select(r => r.RowKey).Order().ToList());

        // The captured response posted with a new, live sign-in's RelayState: refused, no second code or
        // session, and that sign-in is used up (the next answer to it is refused too).
        var (secondRequest, secondRelayState) = await flow.StartAsync("second", SignInFlow.NewPkce().Challenge);
        var replayed = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(assertion), secondRelayState));
        Assert.Equal("access_denied", replayed["error"]);
        Assert.False(replayed.ContainsKey("code"));
        var rows = Rows(flow);
        Assert.Equal(1, Count(rows, "code"));
        Assert.Equal(1, Count(rows, "session"));
        Assert.Equal(1, Count(rows, "assertion"));
        Assert.Equal(0, Count(rows, "pending"));
        Assert.Equal(HttpStatusCode.BadRequest,
            (await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(secondRequest)), secondRelayState)).StatusCode);
    }

    [Fact]
    public async Task An_unsolicited_response_posted_twice_is_refused_the_second_time_and_writes_nothing()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var patch = await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}",
            JsonContent.Create(new JsonObject
            {
                ["idpInitiated"] = new JsonObject { ["enabled"] = true, ["clientId"] = flow.ClientId, ["redirectUri"] = SignInFlow.RedirectUri },
            }));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var response = flow.Idp.SignedResponse(flow.Assertion(null));
        Assert.True(SignInFlow.CallbackParameters(await flow.PostAcsAsync(response, null)).ContainsKey("code"));
        // The sign-in's outbox row leaves after the answer, when the publisher has copied it on.
        await fixture.App.FlushAsync();
        var after = Rows(flow).Select(r => r.RowKey).Order().ToList();

        var again = SignInFlow.CallbackParameters(await flow.PostAcsAsync(response, null));
        await fixture.App.FlushAsync();

        Assert.Equal("access_denied", again["error"]);
        Assert.False(again.ContainsKey("code"));
        Assert.Equal(after, Rows(flow).Select(r => r.RowKey).Order().ToList());
    }

    [Fact]
    public async Task A_code_from_the_connections_partition_is_redeemed_once_and_its_session_is_found_for_logout()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var (code, verifier) = await flow.SignInAsync();
        var tokens = await (await flow.RedeemAsync(code, verifier)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(HttpStatusCode.BadRequest, (await flow.RedeemAsync(code, verifier)).StatusCode);

        var sid = new JsonWebToken(tokens!["id_token"]!.GetValue<string>()).GetClaim("sid").Value;
        var sessions = fixture.App.Get<SignInSessionStore>();
        var bySid = await sessions.FindAsync(new TenantId(flow.TenantId), sid, default);
        Assert.Equal(flow.ConnectionId, bySid?.ConnectionId.Value);
        var byName = await sessions.FindByNameIdAsync(new TenantId(flow.TenantId), new ConnectionId(flow.ConnectionId), flow.Email,
            fixture.App.Clock.GetUtcNow(), default);
        Assert.Equal(sid, Assert.Single(byName).SessionId);
    }

    [Fact]
    public async Task A_pending_sign_in_stored_before_the_connections_partition_still_completes_once()
    {
        // Written where the layout before issue 14 kept it (its own partition of "pendingsignins"), as during a deploy.
        var flow = await SignInFlow.CreateAsync(fixture.App, Jit);
        var now = fixture.App.Clock.GetUtcNow();
        var pending = new PendingSignIn
        {
            Handle = PendingSignIn.NewHandle(new ConnectionId(flow.ConnectionId)),
            ClientId = new ClientId(flow.ClientId),
            RedirectUri = SignInFlow.RedirectUri,
            State = "legacy",
            TenantId = new TenantId(flow.TenantId),
            ConnectionId = new ConnectionId(flow.ConnectionId),
            CreatedAt = now,
            ExpiresAt = now + PendingSignIn.Lifetime,
            IdpState = new JsonObject { [SamlSignInStarter.AuthnRequestIdKey] = "_legacy" + Guid.NewGuid().ToString("N") },
        };
        await fixture.App.Get<PendingSignInStore>().CreateAsync(pending, default);
        var requestId = pending.IdpString(SamlSignInStarter.AuthnRequestIdKey);

        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), pending.Handle));
        Assert.Equal("legacy", callback["state"]);
        Assert.True(callback.ContainsKey("code"));
        Assert.Equal(HttpStatusCode.BadRequest,
            (await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), pending.Handle)).StatusCode);
        Assert.Null(await fixture.App.Get<PendingSignInStore>().PeekAsync(pending.Handle, default));
    }
}
