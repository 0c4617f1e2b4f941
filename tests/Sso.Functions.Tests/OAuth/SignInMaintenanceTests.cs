using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.OAuth;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

public class SignInMaintenanceTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private int Count(string table, string partitionKey)
    {
        var client = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + table);
        client.CreateIfNotExists();
        return client.Query<TableEntity>(e => e.PartitionKey == partitionKey).Count();
    }

    /// <summary>Rows of one kind in a connection's partitions of "signins".</summary>
    private int CountSignInRows(string connectionId, string rowKeyPrefix)
    {
        var client = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + ConnectionSignInStore.TableName);
        client.CreateIfNotExists();
        return client.Query<TableEntity>(ConnectionSignInStore.PartitionsFilter(new Sso.Functions.Connections.ConnectionId(connectionId)))
            .Count(e => e.RowKey.StartsWith(rowKeyPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Removes_expired_pending_sign_ins_codes_and_replay_entries()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var (_, abandoned) = await flow.StartAsync("abandoned", null);
        var (requestId, relayState) = await flow.StartAsync("used", null);
        SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
        // A SAML sign-in's rows live in its connection's partition of "signins" (issue 14).
        Assert.Equal(1, CountSignInRows(flow.ConnectionId, "pending|" + abandoned));
        Assert.Equal(1, CountSignInRows(flow.ConnectionId, "assertion|"));
        Assert.Equal(1, CountSignInRows(flow.ConnectionId, "code|"));

        fixture.App.Clock.Advance(TimeSpan.FromMinutes(15));
        var removed = await SignInMaintenance.CleanUpAsync(fixture.App.Services, default);

        Assert.True(removed >= 3, $"removed {removed}");
        Assert.Equal(0, CountSignInRows(flow.ConnectionId, "pending|" + abandoned));
        Assert.Equal(0, CountSignInRows(flow.ConnectionId, "assertion|"));
        Assert.Equal(0, CountSignInRows(flow.ConnectionId, "code|"));
        var codes = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "authorizationcodes");
        Assert.DoesNotContain(codes.Query<TableEntity>($"PartitionKey ge '{flow.ClientId}|' and PartitionKey lt '{flow.ClientId}}}'"),
            r => r.RowKey.StartsWith("code|"));
    }

    [Fact]
    public async Task Refreshes_metadata_URLs_on_its_schedule()
    {
        var tenant = await fixture.App.CreateAdminClient().PostAsJsonAsync("/api/v1/tenants",
            new { name = "Acme", domains = new[] { "m" + Guid.NewGuid().ToString("N")[..12] + ".test" } });
        var tenantId = (await tenant.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var server = new RecordingHttpReceiver();
        var idp = new SamlTestIdp();
        server.Responder = _ => new ScriptedResponse(200, null, idp.MetadataXml());
        var created = await fixture.App.CreateAdminClient().PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections",
            new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = server.BaseUrl + "md" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        var rolled = new SamlTestIdp();
        server.Responder = _ => new ScriptedResponse(200, null, rolled.MetadataXml());
        await SignInMaintenance.RefreshMetadataAsync(fixture.App.Services, default);

        var view = (await fixture.App.CreateAdminClient().GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections/{id}"))!;
        Assert.Equal(Convert.ToBase64String(rolled.Certificate.RawData), view["idpCertificates"]![0]!.GetValue<string>());
    }
}
