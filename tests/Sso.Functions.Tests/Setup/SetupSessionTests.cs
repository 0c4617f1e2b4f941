using System.Net;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Sso.Functions.Setup;
using Sso.Testing;

namespace Sso.Functions.Tests.Setup;

/// <summary>
/// Issue 18.11: a setup link is <c>/setup#secret</c>; the secret reaches the server once, in a
/// form body, for a session cookie, and no URL the portal requests or links to carries it.
/// </summary>
public class SetupSessionTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    /// <summary>Records every request's URL and body as it leaves the client.</summary>
    private sealed class RecordingHandler : DelegatingHandler
    {
        public List<(string Method, string PathAndQuery, string Body)> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            lock (Requests) Requests.Add((request.Method.Method, request.RequestUri!.PathAndQuery, body));
            return await base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task Walks_the_wizard_on_urls_that_never_carry_the_link_secret()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync();
        Assert.Equal("http://localhost/setup#" + link.Token, link.Url);
        var recorder = new RecordingHandler();
        var browser = App.CreateDefaultClient(recorder, new CookieContainerHandler());
        var secret = link.Token[(link.Token.IndexOf('.') + 1)..];
        var pages = new List<string>();

        // What the no-script form sends: the whole link, pasted.
        var opened = await SetupPortalTenant.OpenSessionAsync(browser, link.Url);
        Assert.Equal(HttpStatusCode.SeeOther, opened.StatusCode);
        Assert.Equal("/setup/idp", opened.Headers.Location!.OriginalString);
        var cookie = Assert.Single(opened.Headers.GetValues("Set-Cookie"), c => c.StartsWith(SetupSession.CookieName + "="));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/setup", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("expires=", cookie, StringComparison.OrdinalIgnoreCase);

        var idp = await browser.GetAsync("/setup/idp");
        Assert.Equal(HttpStatusCode.OK, idp.StatusCode);
        pages.Add(await idp.Content.ReadAsStringAsync());
        var csrf = SetupPortalTenant.CsrfField(pages[^1]);
        var chosen = await browser.PostAsync("/setup/idp", new FormUrlEncodedContent([new("csrf", csrf), new("idp", "okta")]));
        Assert.Equal(HttpStatusCode.SeeOther, chosen.StatusCode);
        Assert.Equal("/setup/sso", chosen.Headers.Location!.OriginalString);
        foreach (var path in new[] { "/setup/sso", "/setup/dsync", "/setup/status" })
        {
            var page = await browser.GetAsync(path);
            Assert.True(page.StatusCode == HttpStatusCode.OK, path);
            pages.Add(await page.Content.ReadAsStringAsync());
        }
        var issued = await browser.PostAsync("/setup/dsync/token", new FormUrlEncodedContent([new("csrf", csrf)]));
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        pages.Add(await issued.Content.ReadAsStringAsync());

        // No request path or query, and no link or form target on any page, holds the secret;
        // the one request body that does is the session form's.
        Assert.DoesNotContain(recorder.Requests, r => r.PathAndQuery.Contains(secret));
        var carrying = Assert.Single(recorder.Requests, r => r.Body.Contains(secret));
        Assert.Equal(("POST", SetupSession.OpenPath), (carrying.Method, carrying.PathAndQuery));
        var targets = pages.SelectMany(html => Regex.Matches(html, "(?:href|action|src)=\"([^\"]*)\"").Select(m => m.Groups[1].Value)).ToList();
        Assert.Contains("/setup/dsync/token", targets);
        Assert.All(targets, target => Assert.DoesNotContain("sso_setup_", target));
        Assert.All(pages, html => Assert.DoesNotContain(secret, html));
    }

    [Fact]
    public async Task Serves_the_link_page_with_the_form_its_script_fills_and_no_inline_code()
    {
        var page = await App.CreateAnonymousClient().GetAsync("/setup");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<form method=\"post\" action=\"/setup/session\" id=\"open-link\"", html);
        Assert.Contains("name=\"link\"", html);
        Assert.Contains("<script src=\"/setup/assets/portal.js\" defer></script>", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("default-src 'none'; script-src 'self'", string.Join(";", page.Headers.GetValues("Content-Security-Policy")));
        var script = await App.CreateAnonymousClient().GetStringAsync("/setup/assets/portal.js");
        Assert.Contains("location.hash", script);
        Assert.Contains("history.replaceState", script);
    }

    [Fact]
    public async Task Refuses_a_session_asked_for_by_another_site()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync();
        foreach (var (header, value) in new[] { ("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site") })
        {
            var browser = App.CreateAnonymousClient();
            var request = new HttpRequestMessage(HttpMethod.Post, SetupSession.OpenPath)
            {
                Content = new FormUrlEncodedContent([new("link", link.Token)]),
            };
            request.Headers.Add(header, value);
            var refused = await browser.SendAsync(request);

            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.False(refused.Headers.Contains("Set-Cookie"), header);
            Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/setup/idp")).StatusCode);
        }
    }

    [Fact]
    public async Task Asks_for_the_link_again_when_the_browser_has_no_session()
    {
        var browser = App.CreateAnonymousClient();

        var page = await browser.GetAsync("/setup/sso");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains("no open setup session", html);
        Assert.Contains("action=\"/setup/session\"", html);
        Assert.Equal(HttpStatusCode.UnprocessableEntity,
            (await browser.PostAsync(SetupSession.OpenPath, new FormUrlEncodedContent([new("link", "")]))).StatusCode);
    }

    [Fact]
    public async Task Reloads_from_this_site_a_page_whose_session_cookie_a_cross_site_redirect_withheld()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/setup/test-result");
        request.Headers.Add("Sec-Fetch-Site", "cross-site");

        var page = await App.CreateAnonymousClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"0; url=/setup/test-result\">", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Refuses_old_style_links_in_the_path_and_links_issued_in_that_form()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync();
        var browser = App.CreateAnonymousClient();

        foreach (var path in new[] { "/setup/" + link.Token, "/setup/" + link.Token + "/sso" })
        {
            var old = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
            var html = await old.Content.ReadAsStringAsync();
            Assert.Contains("no longer accepted", html);
            Assert.DoesNotContain("Hopper Labs", html);
            Assert.False(old.Headers.Contains("Set-Cookie"));
        }

        // A link handed out before the secret moved to the fragment: its secret may be in the logs.
        var table = new TableClient(App.Azurite.ConnectionString, App.TablePrefix + "setuplinks");
        var row = table.GetEntity<TableEntity>(tenant.TenantId, "link|" + link.Id).Value;
        row["TokenInFragment"] = false;
        table.UpdateEntity(row, row.ETag, TableUpdateMode.Replace);
        var refused = await SetupPortalTenant.OpenSessionAsync(browser, link.Token);
        Assert.Equal(HttpStatusCode.Gone, refused.StatusCode);
        Assert.Contains("older format", await refused.Content.ReadAsStringAsync());
    }
}
