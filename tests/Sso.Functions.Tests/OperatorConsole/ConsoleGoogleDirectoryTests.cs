using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.WebUtilities;
using Sso.Functions.Tests.GoogleDirectory;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// A Google Workspace directory that needs authorization gets a Re-authorize button on the tenant
/// page; it issues a fresh authorization URL through the same operation as
/// <c>POST /api/v1/directories/{id}/authorize</c>, and that URL connects the directory.
/// </summary>
public sealed partial class ConsoleGoogleDirectoryTests(GoogleDirectoryFixture fixture) : IClassFixture<GoogleDirectoryFixture>
{
    private SsoAppFactory App => fixture.App;

    [GeneratedRegex("<code id=\"authorize-url\">([^<]+)</code>")]
    private static partial Regex AuthorizeUrl();

    [Fact]
    public async Task Re_authorize_issues_an_authorization_url_that_connects_the_directory()
    {
        var tenant = await TestTenant.CreateAsync(App);
        var created = await tenant.Admin.PostAsJsonAsync($"/api/v1/tenants/{tenant.TenantId}/directories",
            new { name = "Google Workspace", provider = "google-directory" });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var directoryId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        var browser = App.CreateDefaultClient(new CookieContainerHandler());
        var csrf = await ConsoleSessionTests.SignInAsync(browser, "/console/tenants/" + tenant.TenantId);
        var page = await browser.GetStringAsync("/console/tenants/" + tenant.TenantId);
        Assert.Contains("needs authorization", page);
        Assert.Contains($"/directories/{directoryId}/authorize", page);

        var forged = await browser.PostAsync($"/console/tenants/{tenant.TenantId}/directories/{directoryId}/authorize",
            ConsoleSessionTests.Form(("csrf", "wrong")));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);

        var answer = await browser.PostAsync($"/console/tenants/{tenant.TenantId}/directories/{directoryId}/authorize",
            ConsoleSessionTests.Form(("csrf", csrf)));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var url = WebUtility.HtmlDecode(AuthorizeUrl().Match(await answer.Content.ReadAsStringAsync()).Groups[1].Value);
        Assert.StartsWith(fixture.Google.BaseUrl + "/o/oauth2/v2/auth?", url);

        var code = fixture.Google.Consent(url);
        var state = QueryHelpers.ParseQuery(new Uri(url).Query)["state"].ToString();
        var callback = await App.CreateAnonymousClient().GetAsync($"/google/callback?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(state)}");
        Assert.True(callback.StatusCode == HttpStatusCode.OK, await callback.Content.ReadAsStringAsync());
        var directory = await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}/directories/{directoryId}");
        Assert.Equal("connected", directory!["state"]!.GetValue<string>());
        Assert.DoesNotContain("Re-authorize", await browser.GetStringAsync("/console/tenants/" + tenant.TenantId));
    }
}
