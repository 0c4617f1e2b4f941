using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Testing;

namespace Sso.Functions.Tests.Connections;

public class CertificateExpiryTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private readonly HttpClient _admin = fixture.App.CreateAdminClient();

    private X509Certificate2 CertificateEnding(int daysFromNow)
    {
        using var rsa = RSA.Create(2048);
        var notAfter = fixture.App.Clock.GetUtcNow().AddDays(daysFromNow);
        return new CertificateRequest("CN=Expiry test IdP " + daysFromNow, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(notAfter.AddYears(-1), notAfter);
    }

    private async Task<string> TenantAsync()
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/tenants",
            new { name = "Acme", domains = new[] { "x" + Guid.NewGuid().ToString("N")[..12] + ".test" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
    }

    private async Task<string> SamlConnectionAsync(string tenantId, X509Certificate2 certificate)
    {
        var response = await _admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections", new JsonObject
        {
            ["type"] = "saml", ["idpEntityId"] = "https://idp.example.test/" + Guid.NewGuid().ToString("N"),
            ["idpSsoUrl"] = "https://idp.example.test/sso", ["idpCertificates"] = new JsonArray(certificate.ExportCertificatePem()),
        });
        var view = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(response.StatusCode == HttpStatusCode.Created, view.ToJsonString());
        return view["id"]!.GetValue<string>();
    }

    private static string[] Warnings(JsonNode view) => view["warnings"]!.AsArray().Select(w => w!.GetValue<string>()).ToArray();

    [Theory]
    [InlineData(40, false, false, new string[0])]
    [InlineData(20, true, false, new[] { "idp_certificate_expiring" })]
    [InlineData(-1, true, true, new[] { "idp_certificate_expiring", "idp_certificate_expired" })]
    public async Task Flags_a_connection_whose_IdP_certificate_expires_within_30_days(int daysLeft, bool expiresSoon, bool expired,
        string[] warnings)
    {
        var tenantId = await TenantAsync();
        using var certificate = CertificateEnding(daysLeft);
        var connectionId = await SamlConnectionAsync(tenantId, certificate);

        var view = (await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections/{connectionId}"))!;
        var listed = Assert.Single((await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/connections"))!["data"]!.AsArray());

        foreach (var shown in new JsonNode[] { view, listed! })
        {
            var status = Assert.Single(shown["certificates"]!.AsArray())!;
            Assert.Equal(certificate.GetCertHashString(HashAlgorithmName.SHA256), status["thumbprint"]!.GetValue<string>());
            Assert.Equal(new DateTimeOffset(certificate.NotAfter.ToUniversalTime()), DateTimeOffset.Parse(status["notAfter"]!.GetValue<string>()));
            Assert.Equal(expiresSoon, status["expiresSoon"]!.GetValue<bool>());
            Assert.Equal(expired, status["expired"]!.GetValue<bool>());
            Assert.Equal(warnings, Warnings(shown));
        }
    }

    [Fact]
    public async Task The_daily_timer_announces_each_expiring_certificate_once()
    {
        var tenantId = await TenantAsync();
        using var fine = CertificateEnding(40);
        using var soon = CertificateEnding(20);
        using var gone = CertificateEnding(-1);
        await SamlConnectionAsync(tenantId, fine);
        var soonConnection = await SamlConnectionAsync(tenantId, soon);
        var goneConnection = await SamlConnectionAsync(tenantId, gone);
        var host = fixture.App.CreateAnonymousClient();

        // The Functions host invokes a timer as POST /<FunctionName>; twice, as two daily runs would.
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/ConnectionCertificateExpiry", JsonContent.Create(new JsonObject()))).StatusCode);
        fixture.App.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/ConnectionCertificateExpiry", JsonContent.Create(new JsonObject()))).StatusCode);

        await fixture.App.FlushAsync();
        fixture.App.Clock.Advance(TimeSpan.FromSeconds(5));
        var feed = (await _admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenantId}"))!["data"]!.AsArray();
        var notices = feed.Where(e => e!["type"]!.GetValue<string>() == "connection.certificate_expiring").ToList();
        Assert.Equal(2, notices.Count);
        var byConnection = notices.ToDictionary(n => n!["connectionId"]!.GetValue<string>());
        Assert.Equal(soon.GetCertHashString(HashAlgorithmName.SHA256), byConnection[soonConnection]!["data"]!["thumbprint"]!.GetValue<string>());
        Assert.False(byConnection[soonConnection]!["data"]!["expired"]!.GetValue<bool>());
        Assert.InRange(byConnection[soonConnection]!["data"]!["daysLeft"]!.GetValue<int>(), 19, 20);
        Assert.True(byConnection[goneConnection]!["data"]!["expired"]!.GetValue<bool>());

        // Deleting a connection removes its marks with it.
        var table = new TableClient(fixture.App.Azurite.ConnectionString, fixture.App.TablePrefix + "connections");
        int Marks() => table.Query<TableEntity>(e => e.PartitionKey == tenantId).Count(e => e.RowKey.StartsWith("certnotice|"));
        Assert.Equal(2, Marks());
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"/api/v1/tenants/{tenantId}/connections/{goneConnection}")).StatusCode);
        Assert.Equal(1, Marks());
    }
}
