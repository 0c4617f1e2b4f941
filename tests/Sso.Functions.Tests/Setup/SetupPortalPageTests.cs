using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Setup;
using TenantId = Sso.Functions.Storage.TenantId;
using Sso.Testing;

namespace Sso.Functions.Tests.Setup;

/// <summary>The portal over plain HTTP: headers, refused links, anti-forgery, precise errors, and logs free of tokens.</summary>
public class SetupPortalPageTests(SetupPortalPageTests.Fixture fixture) : IClassFixture<SetupPortalPageTests.Fixture>
{
    /// <summary>The app with every log line it writes (Debug and up) recorded.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public RecordingLoggerProvider Logs { get; } = new();
        public SsoAppFactory App { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            App = new LoggingFactory(await AzuriteServer.Shared, Logs);
            _ = App.Server;
        }

        public async Task DisposeAsync() => await App.DisposeAsync();
    }

    private sealed class LoggingFactory(AzuriteServer azurite, RecordingLoggerProvider logs) : SsoAppFactory(azurite)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
            {
                services.AddSingleton<ILoggerProvider>(logs);
                services.Configure<LoggerFilterOptions>(options => options.MinLevel = LogLevel.Debug);
            });
        }
    }

    public sealed class RecordingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, Lines);
        public void Dispose() { }

        private sealed class Recorder(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }

    private SsoAppFactory App => fixture.App;

    [Fact]
    public async Task Serves_pages_and_assets_with_a_strict_CSP_and_no_inline_code()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync();
        var browser = App.CreateAnonymousClient();

        var page = await SetupPortalTenant.OpenAsync(browser, link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        AssertSecurityHeaders(page, noStore: true);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"/setup/assets/portal.js\" defer></script>", html);
        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain(" style=", html);
        Assert.DoesNotContain(" onclick=", html);
        Assert.DoesNotContain("https://", html.Replace("placeholder=\"https://\"", ""));
        var cookie = Assert.Single(page.Headers.GetValues("Set-Cookie"), c => c.StartsWith(SetupCsrf.CookieName + "="));
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/setup", cookie, StringComparison.OrdinalIgnoreCase);

        foreach (var (path, type) in new[] { ("/setup/assets/portal.js", "text/javascript"), ("/setup/assets/portal.css", "text/css") })
        {
            var asset = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
            AssertSecurityHeaders(asset, noStore: false);
        }

        foreach (var refused in new[] { "/setup/sso_setup_nothing", "/setup/" + link.Token + "x", link.Path + "/idp" })
            AssertSecurityHeaders(await browser.GetAsync(refused), noStore: true);
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response, bool noStore)
    {
        Assert.Equal(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
        if (noStore) Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Shows_a_clear_page_without_tenant_data_for_unknown_expired_and_revoked_links()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var browser = App.CreateAnonymousClient();
        var expiring = await tenant.CreateLinkAsync(["sso"], expiresInHours: 1);
        var revoked = await tenant.CreateLinkAsync(["sso"]);
        // A browser whose session is the link's when it is revoked.
        var revokedBrowser = App.CreateAnonymousClient();
        await SetupPortalTenant.OpenPageAsync(revokedBrowser, revoked);
        await tenant.RevokeAsync(revoked);

        var cases = new (string Path, Func<Task<HttpResponseMessage>> Send, HttpStatusCode Status, string Says)[]
        {
            ("unknown secret", () => SetupPortalTenant.OpenSessionAsync(browser, "sso_setup_" + tenant.TenantId + "." + new string('A', 43)),
                HttpStatusCode.NotFound, "not valid"),
            ("garbage", () => SetupPortalTenant.OpenSessionAsync(browser, "garbage"), HttpStatusCode.NotFound, "not valid"),
            ("/setup/garbage", () => browser.GetAsync("/setup/garbage"), HttpStatusCode.NotFound, "not valid"),
            ("revoked", () => SetupPortalTenant.OpenSessionAsync(browser, revoked.Url), HttpStatusCode.Gone, "revoked"),
            (revoked.Path + "/idp", () => revokedBrowser.GetAsync(revoked.Path + "/idp"), HttpStatusCode.Gone, "revoked"),
            (revoked.Path + "/sso", () => revokedBrowser.GetAsync(revoked.Path + "/sso"), HttpStatusCode.Gone, "revoked"),
            (revoked.Path + "/status", () => revokedBrowser.GetAsync(revoked.Path + "/status"), HttpStatusCode.Gone, "revoked"),
        };
        foreach (var (path, send, status, says) in cases)
        {
            var response = await send();
            var html = await response.Content.ReadAsStringAsync();
            Assert.True(status == response.StatusCode, $"{path}: {(int)response.StatusCode}");
            Assert.Contains(says, html);
            Assert.DoesNotContain("Hopper Labs", html);
            Assert.DoesNotContain(tenant.TenantId, html);
        }

        Assert.Equal(HttpStatusCode.OK, (await SetupPortalTenant.OpenAsync(browser, expiring)).StatusCode);
        App.Clock.Advance(TimeSpan.FromHours(1));
        var expired = await browser.GetAsync(expiring.Path + "/sso");
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        var expiredHtml = await expired.Content.ReadAsStringAsync();
        Assert.Contains("expired", expiredHtml);
        Assert.DoesNotContain("Hopper Labs", expiredHtml);
    }

    [Fact]
    public async Task Refuses_form_posts_without_or_with_a_wrong_anti_forgery_token_and_changes_nothing()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync();
        var other = await tenant.CreateLinkAsync();
        var browser = App.CreateAnonymousClient();
        var otherField = SetupPortalTenant.CsrfField(await SetupPortalTenant.OpenPageAsync(browser, other));
        var field = SetupPortalTenant.CsrfField(await SetupPortalTenant.OpenPageAsync(browser, link));
        Assert.NotEqual(field, otherField);
        // A browser with the link's session but not yet the anti-forgery cookie (set by the first page).
        var sessionOnly = App.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.SeeOther, (await SetupPortalTenant.OpenSessionAsync(sessionOnly, link.Token)).StatusCode);

        var attempts = new (string Name, HttpClient Client, string? Csrf, string? Origin)[]
        {
            ("no token", browser, null, null),
            ("a wrong token", browser, field[..^2] + "AA", null),
            ("another link's token", browser, otherField, null),
            ("the token without its cookie", sessionOnly, field, null),
            ("the token from another origin", browser, field, "https://evil.example"),
        };
        foreach (var (name, client, csrf, origin) in attempts)
        {
            foreach (var (path, fields) in new[]
                     {
                         ("/dsync/token", new Dictionary<string, string>()),
                         ("/idp", new Dictionary<string, string> { ["idp"] = "okta" }),
                     })
            {
                if (csrf is not null) fields["csrf"] = csrf;
                var request = new HttpRequestMessage(HttpMethod.Post, link.Path + path) { Content = new FormUrlEncodedContent(fields) };
                if (origin is not null) request.Headers.Add("Origin", origin);
                var response = await client.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{name} {path}: {(int)response.StatusCode}");
                Assert.Contains("Request refused", await response.Content.ReadAsStringAsync());
            }
        }
        Assert.Empty(await App.Get<DirectoryRecordStore>().ListDirectoriesOfTenantAsync(new TenantId(tenant.TenantId), default));
        Assert.Contains("value=\"okta\" required", await browser.GetStringAsync(link.Path + "/idp")); // not checked: the choice was not saved

        // The same post with the page's own token goes through.
        var accepted = await browser.PostAsync(link.Path + "/dsync/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field }));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Single(await App.Get<DirectoryRecordStore>().ListDirectoriesOfTenantAsync(new TenantId(tenant.TenantId), default));
    }

    [Fact]
    public async Task Shows_precise_metadata_errors_and_creates_no_connection()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync(["sso"]);
        var browser = App.CreateAnonymousClient();
        var field = await ChooseAsync(browser, link, "okta");
        var noSigningCertificate = Metadata();
        var unreachable = "http://127.0.0.1:" + AzuriteServer.FreePort() + "/metadata";

        foreach (var (name, fields, says) in new (string, Dictionary<string, string>, string)[]
                 {
                     ("not XML", new() { ["metadataXml"] = "this is not xml" }, "idpMetadataXml: "),
                     ("no signing certificate", new() { ["metadataXml"] = noSigningCertificate }, "no signing certificate"),
                     ("unreachable URL", new() { ["metadataUrl"] = unreachable }, "could not be reached"),
                     ("http URL elsewhere", new() { ["metadataUrl"] = "http://idp.example.com/metadata" }, "must use https"),
                     ("nothing", new(), "Paste the IdP metadata URL or the metadata XML."),
                 })
        {
            fields["csrf"] = field;
            var response = await browser.PostAsync(link.Path + "/sso", new FormUrlEncodedContent(fields));
            var html = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == (HttpStatusCode)422, $"{name}: {(int)response.StatusCode}");
            Assert.Contains("class=\"alert error\"", html);
            Assert.Contains(System.Net.WebUtility.HtmlEncode(says), html);
        }
        Assert.Empty(await App.Get<ConnectionStore>().ListAsync(new TenantId(tenant.TenantId), default));
    }

    [Fact]
    public async Task Saves_metadata_with_an_expired_or_expiring_certificate_and_flags_it_in_the_status_view()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync(["sso"]);
        var browser = App.CreateAnonymousClient();
        var field = await ChooseAsync(browser, link, "entra");
        var now = App.Clock.GetUtcNow();
        var expired = Certificate("CN=Old signing", now.AddYears(-2), now.AddDays(-3));
        var soon = Certificate("CN=Rolling signing", now.AddYears(-1), now.AddDays(12));

        var saved = await browser.PostAsync(link.Path + "/sso", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["csrf"] = field, ["metadataXml"] = Metadata(expired, soon),
        }));
        Assert.Equal(HttpStatusCode.SeeOther, saved.StatusCode);
        Assert.Equal(link.Path + "/sso?saved=1", saved.Headers.Location!.OriginalString);

        var status = await browser.GetStringAsync(link.Path + "/status");
        Assert.Contains("CN=Old signing", status);
        Assert.Contains("badge bad\">expired", status);
        Assert.Contains("CN=Rolling signing", status);
        Assert.Contains("badge warn\">expires soon", status);
        var connection = Assert.Single(await App.Get<ConnectionStore>().ListAsync(new TenantId(tenant.TenantId), default));
        Assert.Equal("Microsoft Entra ID (setup portal)", connection.Name);
        // The SAML values shown before the metadata existed are the saved connection's own.
        var sso = await browser.GetStringAsync(link.Path + "/sso");
        Assert.Contains($"http://localhost/saml/acs/{connection.Id}", sso);
        Assert.Contains("Test sign-in", sso);
    }

    [Fact]
    public async Task Never_logs_the_setup_token_or_the_scim_token_it_shows()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync();
        var browser = App.CreateAnonymousClient();
        var field = await ChooseAsync(browser, link, "okta");
        await browser.PostAsync(link.Path + "/sso", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field, ["metadataXml"] = "<bad" }));
        var issued = await browser.PostAsync(link.Path + "/dsync/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field }));
        var scimToken = System.Text.RegularExpressions.Regex.Match(await issued.Content.ReadAsStringAsync(), "scim_[A-Za-z0-9_-]{43}").Value;
        Assert.NotEmpty(scimToken);
        await browser.GetAsync(link.Path + "/status");
        await browser.GetAsync(link.Path + "/test-sign-in");
        await browser.PostAsync(link.Path + "/idp", new FormUrlEncodedContent(new Dictionary<string, string>()));
        await tenant.RevokeAsync(link);
        await browser.GetAsync(link.Path + "/idp");

        var lines = fixture.Logs.Lines.ToArray();
        Assert.Contains(lines, l => l.Contains("SetupPortalIssueScimToken answered 200"));
        Assert.Contains(lines, l => l.Contains("SetupPortal answered 410"));
        Assert.Contains(lines, l => l.Contains($"Setup form refused: anti-forgery check failed (tenant {tenant.TenantId}, link {link.Id})"));
        Assert.Contains(lines, l => l.Contains($"Setup link refused: revoked (tenant {tenant.TenantId}, link {link.Id})"));
        var secret = link.Token[(link.Token.IndexOf('.') + 1)..];
        Assert.DoesNotContain(lines, l => l.Contains(secret));
        Assert.DoesNotContain(lines, l => l.Contains(scimToken[5..]));
    }

    private static async Task<string> ChooseAsync(HttpClient browser, SetupPortalTenant.Link link, string idp)
    {
        var field = SetupPortalTenant.CsrfField(await SetupPortalTenant.OpenPageAsync(browser, link));
        var chosen = await browser.PostAsync(link.Path + "/idp", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field, ["idp"] = idp }));
        Assert.Equal(HttpStatusCode.SeeOther, chosen.StatusCode);
        return field;
    }

    public static X509Certificate2 Certificate(string subject, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var rsa = RSA.Create(2048);
        return new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(notBefore, notAfter);
    }

    public static string Metadata(params X509Certificate2[] certificates) =>
        $"""
        <md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.test/metadata">
          <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
            {string.Concat(certificates.Select(c =>
                $"<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(c.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"))}
            <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/>
          </md:IDPSSODescriptor>
        </md:EntityDescriptor>
        """;
}
