using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.Configuration;
using Sso.Functions.OperatorConsole;
using Sso.Functions.Storage;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// The console's session over plain HTTP: the admin key exchanged for a cookie whose value is
/// stored only as a hash, sign-out, the idle and absolute limits on the fake clock, and forms
/// refused (wrong key, wrong anti-forgery token, ended session) that change nothing.
/// </summary>
public partial class ConsoleSessionTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private HttpClient Browser() => App.CreateDefaultClient(new CookieContainerHandler());

    public static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    public static string CsrfOf(string html) => CsrfField().Match(html) is { Success: true } m
        ? WebUtility.HtmlDecode(m.Groups[1].Value)
        : throw new Xunit.Sdk.XunitException("The page has no anti-forgery field:\n" + html);

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex CsrfField();

    /// <summary>Signs in with the admin key; the console's anti-forgery token of the session.</summary>
    public static async Task<string> SignInAsync(HttpClient browser, string returnPath = "/console/tenants")
    {
        var signedIn = await browser.PostAsync("/console/sign-in", Form(("adminKey", SsoAppFactory.AdminKey), ("return", returnPath)));
        Assert.Equal(HttpStatusCode.SeeOther, signedIn.StatusCode);
        var page = await browser.GetAsync(returnPath);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return CsrfOf(await page.Content.ReadAsStringAsync());
    }

    private async Task<List<TableEntity>> SessionRowsAsync()
    {
        var table = await App.Get<TableStorage>().GetTableAsync(TableNames.ConsoleSessions, default);
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>()) rows.Add(row);
        return rows;
    }

    private async Task<bool> TenantNamedExistsAsync(string name)
    {
        using var admin = App.CreateAdminClient();
        var list = await admin.GetFromJsonAsync<JsonObject>("/api/v1/tenants?limit=200");
        return list!["data"]!.AsArray().Any(t => t!["name"]!.GetValue<string>() == name);
    }

    [Fact]
    public async Task Signing_in_with_the_admin_key_sets_a_strict_HttpOnly_cookie_whose_value_is_stored_only_as_a_hash()
    {
        var browser = Browser();
        var answer = await browser.PostAsync("/console/sign-in", Form(("adminKey", SsoAppFactory.AdminKey), ("return", "/console/tenants?q=x")));

        Assert.Equal(HttpStatusCode.SeeOther, answer.StatusCode);
        Assert.Equal("/console/tenants?q=x", answer.Headers.Location!.OriginalString);
        var cookie = Assert.Single(answer.Headers.GetValues("Set-Cookie"), c => c.StartsWith(ConsoleSessionGate.CookieName + "="));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/console", cookie, StringComparison.OrdinalIgnoreCase);
        var id = cookie[(ConsoleSessionGate.CookieName.Length + 1)..cookie.IndexOf(';')];
        var rows = await SessionRowsAsync();
        var row = Assert.Single(rows, r => r.PartitionKey == Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id))));
        Assert.Equal("operator", row.GetString("OperatorKind"));
        Assert.StartsWith("key_", row.GetString("OperatorId"));
        Assert.All(rows.SelectMany(r => r.Select(p => p.Value?.ToString() ?? "")),
            value => Assert.False(value.Contains(id) || value.Contains(SsoAppFactory.AdminKey), "a session row holds a secret"));

        var page = await browser.GetAsync("/console/tenants");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.DoesNotContain(SsoAppFactory.AdminKey, await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_session_cookie_is_Secure_when_the_service_is_on_https()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?> { ["Sso:PublicBaseUrl"] = "https://sso.example.test" });
        using var browser = app.CreateClient(new() { AllowAutoRedirect = false, BaseAddress = new Uri("https://sso.example.test") });
        var answer = await browser.PostAsync("/console/sign-in", Form(("adminKey", SsoAppFactory.AdminKey)));
        Assert.Equal(HttpStatusCode.SeeOther, answer.StatusCode);
        var cookie = Assert.Single(answer.Headers.GetValues("Set-Cookie"), c => c.StartsWith(ConsoleSessionGate.CookieName + "="));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_wrong_admin_key_is_refused_and_starts_no_session()
    {
        var before = (await SessionRowsAsync()).Count;
        var browser = Browser();
        var answer = await browser.PostAsync("/console/sign-in", Form(("adminKey", "not-the-key")));

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        Assert.Contains("not an admin key", await answer.Content.ReadAsStringAsync());
        Assert.False(answer.Headers.Contains("Set-Cookie"));
        Assert.Equal(before, (await SessionRowsAsync()).Count);
        var tenants = await browser.GetAsync("/console/tenants");
        Assert.Equal(HttpStatusCode.SeeOther, tenants.StatusCode);
        Assert.StartsWith("/console/sign-in", tenants.Headers.Location!.OriginalString);

        using var admin = App.CreateAdminClient();
        var refusals = await admin.GetFromJsonAsync<JsonObject>("/api/v1/audit/refusals");
        Assert.Contains(refusals!["data"]!.AsArray(), r => r!["reason"]!.GetValue<string>() == ConsoleSignIn.RefusalReason);
    }

    [Fact]
    public async Task A_sign_in_posted_from_another_site_is_refused()
    {
        var before = (await SessionRowsAsync()).Count;
        var request = new HttpRequestMessage(HttpMethod.Post, "/console/sign-in") { Content = Form(("adminKey", SsoAppFactory.AdminKey)) };
        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Add("Sec-Fetch-Site", "cross-site");
        var answer = await Browser().SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Equal(before, (await SessionRowsAsync()).Count);
    }

    [Fact]
    public async Task A_form_without_the_sessions_anti_forgery_token_changes_nothing()
    {
        var browser = Browser();
        var csrf = await SignInAsync(browser);
        var name = "Forged " + Guid.NewGuid().ToString("N")[..8];

        var forged = await browser.PostAsync("/console/tenants", Form(("csrf", (csrf[0] == 'A' ? "B" : "A") + csrf[1..]), ("name", name), ("domains", TestTenant.UniqueDomain())));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        var missing = await browser.PostAsync("/console/tenants", Form(("name", name)));
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        // Another browser's (another session's) token is not this one's.
        var other = await SignInAsync(Browser());
        var crossed = await browser.PostAsync("/console/tenants", Form(("csrf", other), ("name", name)));
        Assert.Equal(HttpStatusCode.Forbidden, crossed.StatusCode);
        Assert.False(await TenantNamedExistsAsync(name));

        var made = await browser.PostAsync("/console/tenants", Form(("csrf", csrf), ("name", name), ("domains", TestTenant.UniqueDomain())));
        Assert.Equal(HttpStatusCode.SeeOther, made.StatusCode);
        Assert.True(await TenantNamedExistsAsync(name));
    }

    [Fact]
    public async Task An_idle_session_ends_after_an_hour_and_its_forms_change_nothing()
    {
        var browser = Browser();
        var csrf = await SignInAsync(browser);
        App.Clock.Advance(ConsoleSession.IdleLifetime + TimeSpan.FromMinutes(1));
        var name = "Late " + Guid.NewGuid().ToString("N")[..8];

        var page = await browser.GetAsync("/console/tenants");
        Assert.Equal(HttpStatusCode.SeeOther, page.StatusCode);
        Assert.Equal("/console/sign-in?return=%2Fconsole%2Ftenants", page.Headers.Location!.OriginalString);
        var late = await browser.PostAsync("/console/tenants", Form(("csrf", csrf), ("name", name), ("domains", TestTenant.UniqueDomain())));
        Assert.Equal(HttpStatusCode.Unauthorized, late.StatusCode);
        Assert.False(await TenantNamedExistsAsync(name));
    }

    [Fact]
    public async Task A_session_in_use_still_ends_eight_hours_after_sign_in()
    {
        var browser = Browser();
        await SignInAsync(browser);
        for (var hour = 0; hour < 8; hour++)
        {
            App.Clock.Advance(TimeSpan.FromMinutes(59));
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/console/tenants")).StatusCode);
        }
        App.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.GetAsync("/console/tenants")).StatusCode);
    }

    [Fact]
    public async Task Signing_out_deletes_the_session()
    {
        var browser = Browser();
        var csrf = await SignInAsync(browser);
        var before = (await SessionRowsAsync()).Count;

        Assert.Equal(HttpStatusCode.Forbidden, (await browser.PostAsync("/console/sign-out", Form(("csrf", "wrong")))).StatusCode);
        Assert.Equal(before, (await SessionRowsAsync()).Count);
        var signedOut = await browser.PostAsync("/console/sign-out", Form(("csrf", csrf)));
        Assert.Equal(HttpStatusCode.SeeOther, signedOut.StatusCode);
        Assert.Equal(before - 1, (await SessionRowsAsync()).Count);
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.GetAsync("/console/tenants")).StatusCode);
    }

    [Fact]
    public async Task Console_changes_are_audited_with_the_operator_as_actor()
    {
        var browser = Browser();
        var csrf = await SignInAsync(browser);
        var made = await browser.PostAsync("/console/tenants", Form(("csrf", csrf), ("name", "Audited"), ("domains", TestTenant.UniqueDomain())));
        Assert.Equal(HttpStatusCode.SeeOther, made.StatusCode);
        var tenantId = made.Headers.Location!.OriginalString.Split('/', '?')[3];
        await App.FlushAsync();

        using var admin = App.CreateAdminClient();
        var trail = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenantId}/audit");
        var row = Assert.Single(trail!["data"]!.AsArray(), r => r!["action"]!.GetValue<string>() == "tenant.create");
        Assert.Equal("operator", row!["actor"]!["kind"]!.GetValue<string>());
        Assert.StartsWith("key_", row["actor"]!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/console/tenants", "/console/tenants")]
    [InlineData("/console", "/console")]
    [InlineData("https://evil.example/console", "/console")]
    [InlineData("//evil.example/console", "/console")]
    [InlineData("/consolex", "/console")]
    [InlineData("/console/sign-in", "/console")]
    [InlineData("/console\\..\\x", "/console")]
    public void Returns_only_to_console_paths(string requested, string expected) =>
        Assert.Equal(expected, ConsoleSignIn.ReturnPath(requested));
}

/// <summary>Who the team's OpenID Connect provider admits to the console: listed emails, or a listed value of the group claim.</summary>
public class ConsoleOidcAdmissionTests
{
    private static ConsoleOidcOptions Options(string? emails, string? groupClaim, string? groups) =>
        ConsoleOidcOptions.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Console:Oidc:Issuer"] = "https://login.example.test/v2.0",
            ["Console:Oidc:ClientId"] = "console",
            ["Console:Oidc:AllowedEmails"] = emails,
            ["Console:Oidc:GroupClaim"] = groupClaim,
            ["Console:Oidc:AllowedGroups"] = groups,
        }).Build());

    [Theory]
    [InlineData("ops@example.test", null, null, "OPS@example.test", "[]", true)]
    [InlineData("ops@example.test", null, null, "eve@example.test", "[]", false)]
    [InlineData(null, "groups", "g-ops, g-sre", "eve@example.test", """["g-sales","g-sre"]""", true)]
    [InlineData(null, "groups", "g-ops", "eve@example.test", """["g-sales"]""", false)]
    [InlineData(null, "groups", "g-ops", "eve@example.test", "\"g-ops\"", true)]
    [InlineData(null, "roles", "g-ops", "eve@example.test", """["g-ops"]""", false)]
    public void Admits_a_listed_email_or_a_listed_group(string? emails, string? groupClaim, string? groups, string email, string groupsJson, bool admitted)
    {
        var options = Options(emails, groupClaim, groups);
        Assert.True(options.IsConfigured);
        var claims = new JsonObject { ["groups"] = JsonNode.Parse(groupsJson) };
        Assert.Equal(admitted, ConsoleOidcSignIn.IsAllowed(options, email, claims));
    }

    [Fact]
    public void Stays_off_without_anyone_to_admit() => Assert.False(Options(null, "groups", null).IsConfigured);
}
