using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.Tests.Setup;
using TenantId = Sso.Functions.Storage.TenantId;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// A tenant as customers have them (a SAML connection whose IdP certificate expires soon, a SCIM
/// directory in use), walked in the console: the connection's warnings and last refusal, the
/// directory's counts and last SCIM request, the settings form, and a SCIM token revoked in the
/// console that the SCIM API then refuses.
/// </summary>
public class ConsoleSampleTenantBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static X509Certificate2 CertificateEnding(int daysLeft)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Sample IdP", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-300), DateTimeOffset.UtcNow.AddDays(daysLeft));
    }

    [Fact]
    public async Task Walks_a_tenant_with_a_SAML_connection_and_a_SCIM_directory_and_revokes_its_SCIM_token()
    {
        await using var console = await ConsoleApp.StartAsync();
        var tenant = await TestTenant.CreateAsync(console.App, "Babbage & Co", admin: console.Admin);
        using var certificate = CertificateEnding(20);
        var connection = await tenant.AddConnectionAsync(new JsonObject
        {
            ["type"] = "saml", ["name"] = "Okta", ["idpEntityId"] = "https://idp.example.test/" + Guid.NewGuid().ToString("N"),
            ["idpSsoUrl"] = "https://idp.example.test/sso", ["idpCertificates"] = new JsonArray(certificate.ExportCertificatePem()),
        });
        var connectionId = connection["id"]!.GetValue<string>();
        var directory = await tenant.AddDirectoryAsync();
        var directoryId = directory["id"]!.GetValue<string>();
        using var scim = new HttpClient { BaseAddress = new Uri(console.BaseUrl) };
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", directory["token"]!.GetValue<string>());
        var created = await scim.PostAsync($"/scim/v2/{directoryId}/Users", new StringContent(
            """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.test","active":true}""",
            System.Text.Encoding.UTF8, "application/scim+json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        // A refused sign-in through the connection, as the ACS records it.
        await console.App.Get<AuditLog>().RecordSignInAsync(new TenantId(tenant.TenantId),
            new ConnectionId(connectionId), null, "failure", "audience_mismatch");
        await console.App.FlushAsync();

        var page = await ConsoleBrowser.NewPageAsync(chromium.Browser);
        await ConsoleBrowser.SignInAsync(page, console, path: "/console/tenants/" + tenant.TenantId);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Babbage & Co");
        var connectionRow = page.Locator($"tr[data-connection=\"{connectionId}\"]");
        await Assertions.Expect(connectionRow).ToContainTextAsync("SAML");
        await Assertions.Expect(connectionRow).ToContainTextAsync("expires soon");
        await Assertions.Expect(connectionRow).ToContainTextAsync("audience_mismatch");
        var directorySection = page.Locator("#directories");
        await Assertions.Expect(directorySection).ToContainTextAsync("1 active");
        await Assertions.Expect(directorySection).ToContainTextAsync($"POST /scim/v2/{directoryId}/Users");
        await ConsoleBrowser.ScreenshotAsync(page, "tenant");
        // Down to a small laptop screen the page reflows instead of scrolling sideways.
        await page.SetViewportSizeAsync(1024, 700);
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the tenant page scrolls sideways at 1024 px");
        await ConsoleBrowser.ScreenshotAsync(page, "tenant-1024");
        await page.SetViewportSizeAsync(1280, 800);

        // Settings: the API's validation decides, and a refused form changes nothing.
        await page.GetByLabel("Role mappings").FillAsync("Engineering = owner");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("owner");
        var unchanged = (await console.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}"))!;
        Assert.Empty(unchanged["settings"]!["groupRoleMappings"]!.AsArray());
        await page.GetByLabel("Just-in-time provisioning").CheckAsync();
        await page.GetByLabel("Role mappings").FillAsync("Engineering = admin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save settings" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The settings were saved");
        var saved = (await console.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}"))!["settings"]!;
        Assert.True(saved["jitProvisioning"]!.GetValue<bool>());
        var mapping = Assert.Single(saved["groupRoleMappings"]!.AsArray())!;
        Assert.Equal(("Engineering", "admin"), (mapping["group"]!.GetValue<string>(), mapping["role"]!.GetValue<string>()));

        // Revoke the SCIM token: the SCIM API refuses it from then on.
        Assert.Equal(HttpStatusCode.OK, (await scim.GetAsync($"/scim/v2/{directoryId}/Users")).StatusCode);
        var tokenId = directory["tokenId"]!.GetValue<string>();
        await page.Locator($"tr[data-token=\"{tokenId}\"]").GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The SCIM token was revoked");
        await Assertions.Expect(page.Locator($"tr[data-token=\"{tokenId}\"]")).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.Unauthorized, (await scim.GetAsync($"/scim/v2/{directoryId}/Users")).StatusCode);
        await ConsoleBrowser.ScreenshotAsync(page, "tenant-token-revoked");
    }
}
