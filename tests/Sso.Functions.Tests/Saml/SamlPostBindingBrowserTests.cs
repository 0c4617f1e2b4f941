using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Web;
using Microsoft.Playwright;
using Sso.Functions.Tests.Setup;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// An IdP whose metadata lists only HTTP-POST, in a real browser (Debian chromium): the pages
/// that must post to the IdP — the AuthnRequest, the SP-initiated LogoutRequest and the
/// LogoutResponse to an IdP-initiated logout — get through our own Content-Security-Policy, and
/// samlify (an IdP no one here wrote) accepts what arrives. The app listens on a real loopback
/// socket, so every hop is the browser's own.
/// </summary>
public class SamlPostBindingBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Signs_in_through_an_IdP_that_takes_the_AuthnRequest_only_by_HTTP_POST()
    {
        await using var setup = await PostOnlyTenant.StartAsync();
        var connectionId = await setup.AddConnectionAsync();
        await using var page = await BrowserPage.OpenAsync(chromium);

        var callback = await page.SignInAsync(setup, connectionId);

        Assert.Equal("post-binding", callback["state"]);
        Assert.StartsWith("sso_ac_", callback["code"]);
        Assert.Contains(page.Visited, url => url.StartsWith(setup.Idp.SsoUrl, StringComparison.Ordinal));
        Assert.Empty(page.PolicyViolations);
    }

    [Fact]
    public async Task Posts_the_SP_initiated_LogoutRequest_to_an_IdP_that_takes_only_HTTP_POST()
    {
        await using var setup = await PostOnlyTenant.StartAsync();
        var connectionId = await setup.AddConnectionAsync();
        await using var page = await BrowserPage.OpenAsync(chromium);
        var callback = await page.SignInAsync(setup, connectionId);
        var tokens = await setup.RedeemAsync(callback["code"], page.CodeVerifier);
        Assert.True(tokens.StatusCode == HttpStatusCode.OK, await tokens.Content.ReadAsStringAsync());
        var idToken = (await tokens.Content.ReadFromJsonAsync<JsonObject>())!["id_token"]!.GetValue<string>();
        // The callback was requested, but a navigation started before its page commits can be dropped
        // by the browser: let the callback page commit first.
        await page.Page.WaitForURLAsync(url => url.StartsWith(setup.RedirectUri, StringComparison.Ordinal),
            new() { WaitUntil = WaitUntilState.Commit, Timeout = 90_000 });

        await page.Page.GotoAsync(setup.BaseUrl + $"/oauth/logout?id_token_hint={idToken}"
            + $"&post_logout_redirect_uri={Uri.EscapeDataString(setup.SignedOutUri)}&state=bye", new() { WaitUntil = WaitUntilState.Commit });
        var signedOut = await page.WaitForUrlAsync(setup.SignedOutUri);

        Assert.Equal("bye", HttpUtility.ParseQueryString(new Uri(signedOut).Query)["state"]);
        var accepted = (await setup.Idp.LogoutsAsync())["requests"]!.AsArray().Single()!;
        Assert.Equal("post", accepted["binding"]!.GetValue<string>());
        Assert.Equal(setup.Email, accepted["nameID"]!.GetValue<string>());
        Assert.Empty(page.PolicyViolations);
    }

    [Fact]
    public async Task Posts_the_LogoutResponse_to_an_IdP_initiated_logout_back_to_an_IdP_that_takes_only_HTTP_POST()
    {
        await using var setup = await PostOnlyTenant.StartAsync();
        var connectionId = await setup.AddConnectionAsync();
        await using var page = await BrowserPage.OpenAsync(chromium);
        await page.SignInAsync(setup, connectionId);
        var request = await setup.Idp.LogoutUserAsync(setup.SpEntityId, "post");

        // The browser carries samlify's LogoutRequest to our SLO endpoint, as the IdP's own page would.
        await page.Page.SetContentAsync(
            $"<form method=\"post\" action=\"{WebUtility.HtmlEncode(request.Action)}\">"
            + $"<input type=\"hidden\" name=\"SAMLRequest\" value=\"{WebUtility.HtmlEncode(request.SamlRequest)}\"/>"
            + $"<input type=\"hidden\" name=\"RelayState\" value=\"{WebUtility.HtmlEncode(request.RelayState)}\"/>"
            + "<button id=\"go\" type=\"submit\">Sign out</button></form>");
        await page.Page.ClickAsync("#go");
        await page.WaitForUrlAsync(setup.Idp.SloUrl);

        JsonArray responses = [];
        await Poll.UntilAsync(async () => (responses = (await setup.Idp.LogoutsAsync())["responses"]!.AsArray()).Count > 0,
            TimeSpan.FromSeconds(30), () => "samlify never received the LogoutResponse");
        var answered = responses.Single()!;
        Assert.Equal("post", answered["binding"]!.GetValue<string>());
        Assert.Equal(request.Id, answered["inResponseTo"]!.GetValue<string>());
        Assert.Equal(request.RelayState, answered["relayState"]!.GetValue<string>());
        Assert.Equal("urn:oasis:names:tc:SAML:2.0:status:Success", answered["status"]!.GetValue<string>());
        Assert.Empty(page.PolicyViolations);
    }

    [Fact]
    public async Task Shows_a_button_that_posts_the_AuthnRequest_when_scripts_are_off()
    {
        await using var setup = await PostOnlyTenant.StartAsync();
        var connectionId = await setup.AddConnectionAsync();
        await using var page = await BrowserPage.OpenAsync(chromium, javaScriptEnabled: false);

        await page.Page.GotoAsync(page.AuthorizeUrl(setup, connectionId));
        await page.Page.ClickAsync("button[type=submit]");
        // samlify's own answer posts itself to our ACS with script; without script it shows its button.
        await page.WaitForUrlAsync(setup.Idp.SsoUrl);
        await page.Page.ClickAsync("button[type=submit]");
        var callback = await page.WaitForUrlAsync(setup.RedirectUri);

        Assert.StartsWith("sso_ac_", HttpUtility.ParseQueryString(new Uri(callback).Query)["code"]);
    }

    /// <summary>A chromium page that records the requests it makes and the policy violations it reports.</summary>
    private sealed class BrowserPage : IAsyncDisposable
    {
        private readonly IBrowserContext _context;

        private BrowserPage(IBrowserContext context, IPage page)
        {
            _context = context;
            Page = page;
        }

        public IPage Page { get; }
        public List<string> PolicyViolations { get; } = [];
        public System.Collections.Concurrent.ConcurrentQueue<string> Visited { get; } = [];
        public System.Collections.Concurrent.ConcurrentQueue<string> Console { get; } = [];
        public string CodeVerifier { get; private set; } = "";

        public static async Task<BrowserPage> OpenAsync(ChromiumFixture chromium, bool javaScriptEnabled = true)
        {
            var context = await chromium.Browser.NewContextAsync(new() { JavaScriptEnabled = javaScriptEnabled });
            var page = await context.NewPageAsync();
            var browserPage = new BrowserPage(context, page);
            page.Console += (_, message) =>
            {
                browserPage.Console.Enqueue(message.Type + ": " + message.Text);
                if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) browserPage.PolicyViolations.Add(message.Text);
            };
            page.Request += (_, request) => browserPage.Visited.Enqueue(request.Url);
            return browserPage;
        }

        public string AuthorizeUrl(PostOnlyTenant setup, string connectionId)
        {
            var (verifier, challenge) = SignInFlow.NewPkce();
            CodeVerifier = verifier;
            return setup.BaseUrl + "/oauth/authorize?response_type=code&scope=openid%20email"
                + $"&client_id={setup.ClientId}&redirect_uri={Uri.EscapeDataString(setup.RedirectUri)}&state=post-binding"
                + $"&code_challenge={challenge}&code_challenge_method=S256&connection={connectionId}";
        }

        /// <summary>authorize → our POST page → samlify's POST /sso → its form → our ACS → the client's callback.</summary>
        public async Task<Dictionary<string, string>> SignInAsync(PostOnlyTenant setup, string connectionId)
        {
            await Page.GotoAsync(AuthorizeUrl(setup, connectionId));
            var callback = await WaitForUrlAsync(setup.RedirectUri);
            var query = HttpUtility.ParseQueryString(new Uri(callback).Query);
            Assert.True(query["code"] is not null, "no code: " + query["error"] + " " + query["error_description"]);
            return query.AllKeys.ToDictionary(k => k!, k => query[k]!);
        }

        /// <summary>
        /// Waits until the browser requested a URL starting with <paramref name="prefix"/> (the
        /// request is what the test asserts: a loaded machine can hold the landing page's commit
        /// back past any timeout) and returns it; on failure says where the browser went.
        /// </summary>
        public async Task<string> WaitForUrlAsync(string prefix)
        {
            string? requested = null;
            await Poll.UntilAsync(() => (requested = Visited.FirstOrDefault(v => v.StartsWith(prefix, StringComparison.Ordinal))) is not null,
                TimeSpan.FromSeconds(60),
                () => $"The browser never requested {prefix}\nrequests:\n  "
                      + string.Join("\n  ", Visited.Select(v => v.Length > 120 ? v[..120] + "…" : v))
                      + "\nconsole:\n  " + string.Join("\n  ", Console));
            return requested!;
        }

        public async ValueTask DisposeAsync() => await _context.DisposeAsync();
    }

    /// <summary>
    /// The app on a loopback socket, samlify publishing only HTTP-POST endpoints, and the SaaS app
    /// played by a loopback receiver (its callback and signed-out pages answer 200).
    /// </summary>
    private sealed class PostOnlyTenant : SamlifyTestTenant, IAsyncDisposable
    {
        private readonly SsoAppFactory _app;
        private readonly RecordingHttpReceiver _clientApp = new();

        private PostOnlyTenant(SsoAppFactory app, string baseUrl, SamlifyIdpServer idp, string domain)
            : base(app, idp, domain, "grace@" + domain)
        {
            _app = app;
            BaseUrl = baseUrl;
            // The factory's clients default to http://localhost; on Kestrel they must use the socket.
            Admin.BaseAddress = new Uri(baseUrl);
            Browser.BaseAddress = new Uri(baseUrl);
        }

        public string BaseUrl { get; }
        public string RedirectUri => _clientApp.BaseUrl.TrimEnd('/') + "/callback";
        public string SignedOutUri => _clientApp.BaseUrl.TrimEnd('/') + "/signed-out";

        public static async Task<PostOnlyTenant> StartAsync()
        {
            var port = AzuriteServer.FreePort();
            var baseUrl = $"http://127.0.0.1:{port}";
            var app = new SsoAppFactory(await AzuriteServer.Shared, new Dictionary<string, string?> { ["Sso:PublicBaseUrl"] = baseUrl });
            app.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
            app.StartServer();
            var domain = "post" + Guid.NewGuid().ToString("N")[..10] + ".test";
            var idp = await SamlifyIdpServer.StartAsync(new SamlifyIdpServer.User("grace@" + domain, "Grace", "Hopper", []),
                new SamlifyIdpServer.Options(PostBindingOnly: true));
            var setup = new PostOnlyTenant(app, baseUrl, idp, domain);
            await setup.CreateTenantAndClientAsync("Hopper Labs", new JsonObject { ["jitProvisioning"] = true }, new
            {
                name = "Product", redirectUris = new[] { setup.RedirectUri }, postLogoutRedirectUris = new[] { setup.SignedOutUri },
            });
            return setup;
        }

        public string SpEntityId { get; private set; } = "";

        public async Task<string> AddConnectionAsync()
        {
            var (view, spMetadata) = await CreateConnectionAsync(null);
            Assert.Contains("SingleLogoutService", spMetadata);
            SpEntityId = view["spEntityId"]!.GetValue<string>();
            return view["id"]!.GetValue<string>();
        }

        public new Task<HttpResponseMessage> RedeemAsync(string code, string verifier) =>
            Browser.PostAsync("/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["code_verifier"] = verifier,
                ["client_id"] = ClientId, ["client_secret"] = ClientSecret,
            }));

        public new async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            await _app.DisposeAsync();
            _clientApp.Dispose();
        }
    }
}
