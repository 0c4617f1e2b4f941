using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Audit;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

/// <summary>
/// Issue 18.10: junk at the ACS and a flood of bad authorize requests are counted, not audited, so
/// they cannot flush a tenant's recent sign-in attempts or fill the event feed.
/// </summary>
public class AnonymousRefusalTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private const int Junk = 500;

    [Fact]
    public async Task Counts_junk_ACS_posts_and_bad_authorize_requests_without_auditing_or_emitting_events()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        // Two real attempts first: one signs in, one is refused for a wrong audience.
        await flow.SignInAsync();
        var (requestId, relayState) = await flow.StartAsync("real", null);
        var wrongAudience = flow.Assertion(requestId) with { SpEntityId = "https://elsewhere.example.test" };
        Assert.Equal("access_denied", SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(wrongAudience), relayState))["error"]);
        var realAttempts = await AuditTestRows.ReadAllAsync(fixture.App, flow.TenantId, AuditTypes.SignInAttempt);
        Assert.Equal(2, realAttempts.Count);
        var auditRowsBefore = AuditRowCount();
        var eventsBefore = await EventCountAsync(flow);

        var forger = SamlTestIdp.CreateCertificate("CN=Not the IdP");
        var anonymous = fixture.App.CreateAnonymousClient();
        await InBatchesAsync(Junk, async i =>
        {
            var (response, relay) = (i % 4) switch
            {
                0 => ("%%%not base64", null),
                1 => (Convert.ToBase64String(Encoding.UTF8.GetBytes("<samlp:Response/>")), "rs_" + i),
                2 => (flow.Idp.SignedResponse(flow.Assertion(null), signWith: forger), null),
                _ => (flow.Idp.SignedResponse(flow.Assertion("_id" + i), signWith: forger), flow.ConnectionId + "." + new string('A', 32)),
            };
            var posted = await flow.PostAcsAsync(response, relay);
            Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
        });
        await InBatchesAsync(Junk, async i =>
        {
            var url = (i % 3) switch
            {
                0 => "/oauth/authorize?response_type=code&client_id=cli_00000000000000000000000000&redirect_uri=https%3A%2F%2Fevil.example",
                1 => flow.AuthorizeUrl("s" + i, null).Replace("response_type=code", "response_type=token"),
                _ => $"/oauth/authorize?response_type=code&client_id={flow.ClientId}&redirect_uri=https%3A%2F%2Fevil.example&state=x",
            };
            var refused = await anonymous.GetAsync(url);
            Assert.True(refused.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Redirect, refused.StatusCode.ToString());
        });

        // The tenant's last 50 sign-in attempts still show the real ones, and nothing new.
        var latest = await fixture.App.CreateAdminClient().GetFromJsonAsync<JsonObject>(
            $"/api/v1/tenants/{flow.TenantId}/audit?type={AuditTypes.SignInAttempt}&limit=50");
        var rows = latest!["data"]!.AsArray();
        Assert.Equal(realAttempts.Select(r => r["id"]!.GetValue<string>()), rows.Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(auditRowsBefore, AuditRowCount());
        Assert.Equal(eventsBefore, await EventCountAsync(flow));

        // The refusals are counted where an operator looks.
        var tenantCounts = await CountsAsync($"/api/v1/tenants/{flow.TenantId}/audit/refusals");
        Assert.Equal(Junk, tenantCounts["total"]!.GetValue<long>());
        var reasons = tenantCounts["data"]!.AsArray().GroupBy(r => r!["reason"]!.GetValue<string>())
            .ToDictionary(g => g.Key, g => g.Sum(r => r!["count"]!.GetValue<long>()));
        Assert.Equal(Junk * 3 / 4, reasons["acs:UnsolicitedResponse"]);   // no RelayState, or not one of ours
        Assert.Equal(Junk / 4, reasons["acs:RelayStateUnknown"]);
        Assert.All(tenantCounts["data"]!.AsArray(), r => Assert.Equal(flow.ConnectionId, r!["connectionId"]!.GetValue<string>()));
        var globalCounts = await CountsAsync("/api/v1/audit/refusals");
        Assert.Equal(Junk, globalCounts["data"]!.AsArray().Where(r => r!["reason"]!.GetValue<string>().StartsWith("authorize:"))
            .Sum(r => r!["count"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Audits_an_unsolicited_response_that_the_IdP_really_signed()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);
        var forger = SamlTestIdp.CreateCertificate("CN=Not the IdP");

        Assert.Equal(HttpStatusCode.BadRequest, (await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(null)), null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(null), signWith: forger), null)).StatusCode);

        var row = Assert.Single(await AuditTestRows.ReadAllAsync(fixture.App, flow.TenantId, AuditTypes.SignInAttempt));
        Assert.Equal("UnsolicitedResponse", row["failureKind"]!.GetValue<string>());
        var counts = await CountsAsync($"/api/v1/tenants/{flow.TenantId}/audit/refusals");
        Assert.Equal(1, counts["total"]!.GetValue<long>());
    }

    [Fact]
    public async Task Counts_an_unsigned_IdP_initiated_post_and_emits_no_event()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var patch = await flow.Admin.PatchAsync($"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}",
            JsonContent.Create(new JsonObject
            {
                ["idpInitiated"] = new JsonObject { ["enabled"] = true, ["clientId"] = flow.ClientId, ["redirectUri"] = SignInFlow.RedirectUri },
            }));
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var forger = SamlTestIdp.CreateCertificate("CN=Not the IdP");
        var eventsBefore = await EventCountAsync(flow);

        for (var i = 0; i < 20; i++)
        {
            var callback = SignInFlow.CallbackParameters(
                await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(null), signWith: forger), null));
            Assert.Equal("access_denied", callback["error"]);
        }

        Assert.Empty(await AuditTestRows.ReadAllAsync(fixture.App, flow.TenantId, AuditTypes.SignInAttempt));
        Assert.Equal(eventsBefore, await EventCountAsync(flow));
        var counts = await CountsAsync($"/api/v1/tenants/{flow.TenantId}/audit/refusals");
        Assert.Equal(20, counts["total"]!.GetValue<long>());
        Assert.Equal("acs:UntrustedCertificate", Assert.Single(counts["data"]!.AsArray())!["reason"]!.GetValue<string>());
    }

    private static async Task InBatchesAsync(int count, Func<int, Task> send)
    {
        for (var start = 0; start < count; start += 25)
            await Task.WhenAll(Enumerable.Range(start, Math.Min(25, count - start)).Select(send));
    }

    private int AuditRowCount()
    {
        fixture.App.FlushAsync().GetAwaiter().GetResult();
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "audit");
        table.CreateIfNotExists();
        return table.Query<TableEntity>(select: ["RowKey"]).Count();
    }

    private async Task<int> EventCountAsync(SignInFlow flow)
    {
        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(5));
        var feed = await flow.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={flow.TenantId}&limit=1000");
        return feed!["data"]!.AsArray().Count;
    }

    private async Task<JsonObject> CountsAsync(string path)
    {
        var response = await fixture.App.CreateAdminClient().GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}
