using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Sso.Functions.DirectorySync;
using Sso.Functions.GoogleDirectory;
using Sso.Functions.Outbox;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tests.Deprovisioning;
using Sso.Testing;
using Connected = Sso.Functions.Tests.GoogleDirectory.GoogleTestDirectory;

namespace Sso.Functions.Tests.GoogleDirectory;

public sealed class GoogleDirectoryFixture : GoogleAppFixture;

/// <summary>
/// Issue 17 end to end: a Google Workspace directory pulled from a loopback fake of Google's OAuth
/// and Directory API, through the real app on Azurite, with the local dispatcher running the sync's
/// queue messages: authorize → callback → sync → views and events → user removed → deprovisioned
/// → access token refused; and the failures (429, a page failing mid-listing, invalid_grant).
/// The fake is shared by the class: each test has its own tenant and directory, which lists every
/// user the fake holds; its assertions are about the users it added.
/// </summary>
public sealed class GoogleDirectorySyncTests(GoogleDirectoryFixture fixture) : IClassFixture<GoogleDirectoryFixture>
{
    private SsoAppFactory App => fixture.App;
    private FakeGoogleWorkspace Google => fixture.Google;

    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    private async Task<Connected> ConnectAsync() =>
        await GoogleTestDirectory.ConnectAsync(await TestTenant.CreateAsync(App), Google, "Google Workspace");

    private async Task<JsonObject> DirectoryAsync(Connected c) =>
        (await c.Tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{c.Tenant.TenantId}/directories/{c.DirectoryId}"))!;

    private async Task<List<JsonObject>> UsersAsync(Connected c) =>
        (await c.Tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{c.DirectoryId}/users?limit=200"))!["data"]!.AsArray()
        .Select(u => u!.AsObject()).ToList();

    private async Task<List<JsonObject>> GroupsAsync(Connected c) =>
        (await c.Tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{c.DirectoryId}/groups?limit=200"))!["data"]!.AsArray()
        .Select(g => g!.AsObject()).ToList();

    private static JsonObject UserNamed(List<JsonObject> users, string email) => users.Single(u => u["userName"]!.GetValue<string>() == email);

    private async Task<List<JsonObject>> FeedAsync(string tenantId)
    {
        await App.FlushAsync();
        App.Clock.Advance(EventFeedStore.SettleTime + TimeSpan.FromSeconds(1));
        var feed = await App.CreateAdminClient().GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenantId}&limit=1000");
        return feed!["data"]!.AsArray().Select(e => e!.AsObject()).ToList();
    }

    private async Task SyncAsync(Connected c)
    {
        var response = await c.Tenant.Admin.PostAsync($"/api/v1/directories/{c.DirectoryId}/sync", null);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        await App.DrainQueuesAsync();
    }

    private static string Unique(string name) => $"{name}.{Guid.NewGuid():N}"[..(name.Length + 9)] + "@acme.test";

    [Fact]
    public async Task Authorize_callback_sync_views_events_then_a_removed_user_is_deprovisioned_and_its_token_refused()
    {
        await OneAtATime.WaitAsync();
        try
        {
            var alice = Google.AddUser(Unique("alice"), "Alice", "Archer");
            var bob = Google.AddUser(Unique("bob"), "Bob", "Baker");
            var carol = Google.AddUser(Unique("carol"), "Carol", "Cook", suspended: true);
            var nested = Google.AddGroup("Nested " + Guid.NewGuid().ToString("N")[..6], (bob["id"]!.GetValue<string>(), "USER"));
            var engineering = Google.AddGroup("Engineering " + Guid.NewGuid().ToString("N")[..6],
                (alice["id"]!.GetValue<string>(), "USER"), (bob["id"]!.GetValue<string>(), "USER"),
                (nested["id"]!.GetValue<string>(), "GROUP"), ("C0customer", "CUSTOMER"));

            var c = await ConnectAsync();
            // The authorization URL: Google's endpoint, offline access with consent, the read-only scopes, PKCE S256, our callback.
            var authorizeUrl = new Uri(c.Created["authorizeUrl"]!.GetValue<string>());
            Assert.StartsWith(Google.BaseUrl + "/o/oauth2/v2/auth?", authorizeUrl.ToString());
            var query = QueryHelpers.ParseQuery(authorizeUrl.Query);
            Assert.Equal("code", query["response_type"]);
            Assert.Equal("offline", query["access_type"]);
            Assert.Equal("consent", query["prompt"]);
            Assert.Equal("S256", query["code_challenge_method"]);
            Assert.Equal("http://localhost/google/callback", query["redirect_uri"]);
            Assert.Equal(FakeGoogleWorkspace.ClientId, query["client_id"]);
            Assert.Equal(
                ["https://www.googleapis.com/auth/admin.directory.group.member.readonly", "https://www.googleapis.com/auth/admin.directory.group.readonly",
                    "https://www.googleapis.com/auth/admin.directory.user.readonly"],
                query["scope"].ToString().Split(' ').Order(StringComparer.Ordinal));
            Assert.Equal("needs_authorization", c.Created["state"]!.GetValue<string>());
            Assert.Null(c.Created["token"]);

            // The state is single use.
            var replay = await App.CreateAnonymousClient().GetAsync($"/google/callback?code=4%2Fx&state={Uri.EscapeDataString(query["state"].ToString())}");
            Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);

            // The refresh token is in the secret store, and in no row of the directory table.
            var secret = await App.Get<ISecretStore>().GetAsync(GoogleAuthorization.RefreshTokenSecretName(new Sso.Functions.DirectorySync.DirectoryId(c.DirectoryId)), default);
            Assert.Contains(secret, Google.IssuedRefreshTokens);
            var table = await App.Get<TableStorage>().GetTableAsync(Sso.Functions.DirectorySync.DirectoryPartitionWriter.TableName, default);
            await foreach (var row in table.QueryAsync<Azure.Data.Tables.TableEntity>($"PartitionKey eq '{c.DirectoryId}'"))
                Assert.DoesNotContain(row, kv => kv.Value is string s && s.Contains(secret!, StringComparison.Ordinal));

            // The callback queued the first sync.
            await App.DrainQueuesAsync();
            var view = await DirectoryAsync(c);
            Assert.Equal("connected", view["state"]!.GetValue<string>());
            Assert.Equal("succeeded", view["lastSyncResult"]!.GetValue<string>());
            Assert.NotNull(view["lastSyncAt"]);

            var users = await UsersAsync(c);
            var aliceView = UserNamed(users, alice["primaryEmail"]!.GetValue<string>());
            Assert.Equal("Alice", aliceView["givenName"]!.GetValue<string>());
            Assert.Equal("Archer", aliceView["familyName"]!.GetValue<string>());
            Assert.Equal(alice["primaryEmail"]!.GetValue<string>(), aliceView["email"]!.GetValue<string>());
            Assert.Equal("active", aliceView["state"]!.GetValue<string>());
            Assert.Equal(alice["id"]!.GetValue<string>(), aliceView["externalId"]!.GetValue<string>());
            Assert.Equal("/", aliceView["attributes"]!["google"]!["orgUnitPath"]!.GetValue<string>());
            Assert.Equal("suspended", UserNamed(users, carol["primaryEmail"]!.GetValue<string>())["state"]!.GetValue<string>());
            var bobView = UserNamed(users, bob["primaryEmail"]!.GetValue<string>());
            var bobId = bobView["id"]!.GetValue<string>();

            // Direct members of type USER only: the nested group and the customer are not members.
            var groups = await GroupsAsync(c);
            var engineeringView = groups.Single(g => g["displayName"]!.GetValue<string>() == engineering["name"]!.GetValue<string>());
            Assert.Equal(
                new[] { alice["primaryEmail"]!.GetValue<string>(), bob["primaryEmail"]!.GetValue<string>() }.Order(StringComparer.Ordinal),
                engineeringView["members"]!.AsArray().Select(m => m!["userName"]!.GetValue<string>()).Order(StringComparer.Ordinal));
            Assert.Contains(bobView["groups"]!.AsArray(), g => g!["displayName"]!.GetValue<string>() == engineering["name"]!.GetValue<string>());

            var events = await FeedAsync(c.Tenant.TenantId);
            Assert.Contains(events, e => e["type"]!.GetValue<string>() == "dsync.user.created" && e["data"]!["id"]!.GetValue<string>() == bobId);
            Assert.Contains(events, e => e["type"]!.GetValue<string>() == "dsync.group.created"
                                         && e["data"]!["displayName"]!.GetValue<string>() == engineering["name"]!.GetValue<string>());
            Assert.Contains(events, e => e["type"]!.GetValue<string>() == "dsync.group.user_added" && e["data"]!["user"]!["id"]!.GetValue<string>() == bobId);
            Assert.All(events, e => Assert.Equal(c.DirectoryId, e["directoryId"]!.GetValue<string>()));

            // A second sync of an unchanged directory changes nothing.
            await SyncAsync(c);
            Assert.Equal(events.Count, (await FeedAsync(c.Tenant.TenantId)).Count);

            // Bob leaves the company: the next complete listing no longer holds him.
            var accessToken = await App.IssueAccessTokenAsync(c.Tenant.TenantId, bobId, bob["primaryEmail"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, await App.UserInfoStatusAsync(accessToken));
            Google.RemoveUser(bob["id"]!.GetValue<string>());
            await SyncAsync(c);

            Assert.Equal("deprovisioned", UserNamed(await UsersAsync(c), bob["primaryEmail"]!.GetValue<string>())["state"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.Unauthorized, await App.UserInfoStatusAsync(accessToken));
            Assert.DoesNotContain((await GroupsAsync(c)).Single(g => g["id"]!.GetValue<string>() == engineeringView["id"]!.GetValue<string>())["members"]!.AsArray(),
                m => m!["id"]!.GetValue<string>() == bobId);
            events = await FeedAsync(c.Tenant.TenantId);
            Assert.Contains(events, e => e["type"]!.GetValue<string>() == "dsync.user.deprovisioned" && e["data"]!["id"]!.GetValue<string>() == bobId);
            Assert.Equal(1, (await DirectoryAsync(c))["counts"]!["deprovisioned"]!.GetValue<int>());

            // Listed again: reactivated.
            Google.RestoreUser(bob);
            await SyncAsync(c);
            Assert.Equal("active", UserNamed(await UsersAsync(c), bob["primaryEmail"]!.GetValue<string>())["state"]!.GetValue<string>());
            Assert.Contains(await FeedAsync(c.Tenant.TenantId),
                e => e["type"]!.GetValue<string>() == "dsync.user.reactivated" && e["data"]!["id"]!.GetValue<string>() == bobId);
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task A_page_that_keeps_failing_mid_listing_deprovisions_nobody_and_a_429_is_retried()
    {
        await OneAtATime.WaitAsync();
        try
        {
            var dave = Google.AddUser(Unique("dave"), "Dave", "Dyer");
            // Enough users that the listing has a second page whatever ran before.
            for (var i = 0; i < 3; i++) Google.AddUser(Unique("filler"), "Fill", "Er");
            var c = await ConnectAsync();
            await App.DrainQueuesAsync();
            var daveId = UserNamed(await UsersAsync(c), dave["primaryEmail"]!.GetValue<string>())["id"]!.GetValue<string>();

            // Dave is removed, and the second page of users fails every time: the listing is not complete.
            Google.RemoveUser(dave["id"]!.GetValue<string>());
            Google.Fail("/admin/directory/v1/users?customer=my_customer&maxResults=500&projection=full&pageToken=p2", 503, times: -1);
            await SyncAsync(c);
            var view = await DirectoryAsync(c);
            Assert.Equal("failed", view["lastSyncResult"]!.GetValue<string>());
            Assert.Equal("active", UserNamed(await UsersAsync(c), dave["primaryEmail"]!.GetValue<string>())["state"]!.GetValue<string>());
            Assert.Equal(Sso.Functions.GoogleDirectory.GoogleOptions.MaxAttempts,
                Google.Requests.Count(r => r.PathAndQuery.EndsWith("pageToken=p2", StringComparison.Ordinal) && r.PathAndQuery.Contains("/users?") && r.AnsweredStatus == 503));
            Assert.DoesNotContain(await FeedAsync(c.Tenant.TenantId),
                e => e["type"]!.GetValue<string>() == "dsync.user.deprovisioned" && e["data"]!["id"]!.GetValue<string>() == daveId);

            // Google recovers, but answers one 429 first: retried, and the now complete listing deprovisions Dave.
            Google.ClearFailures();
            Google.Fail("/admin/directory/v1/groups?customer=my_customer", 429);
            var before = Google.Requests.Count;
            await SyncAsync(c);
            Assert.Equal("succeeded", (await DirectoryAsync(c))["lastSyncResult"]!.GetValue<string>());
            var groupListings = Google.Requests.Skip(before).Where(r => r.PathAndQuery.StartsWith("/admin/directory/v1/groups?", StringComparison.Ordinal)).ToList();
            Assert.Equal(429, groupListings[0].AnsweredStatus);
            Assert.Equal(200, groupListings[1].AnsweredStatus);
            Assert.Equal("deprovisioned", UserNamed(await UsersAsync(c), dave["primaryEmail"]!.GetValue<string>())["state"]!.GetValue<string>());
        }
        finally
        {
            Google.ClearFailures();
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task A_revoked_grant_asks_for_authorization_again_and_a_new_authorization_connects()
    {
        await OneAtATime.WaitAsync();
        try
        {
            var c = await ConnectAsync();
            await App.DrainQueuesAsync();
            var erin = Google.AddUser(Unique("erin"), "Erin", "Eve");

            Google.RevokeAll();
            await SyncAsync(c);
            var view = await DirectoryAsync(c);
            Assert.Equal("needs_authorization", view["state"]!.GetValue<string>());
            Assert.Equal("authorization_required", view["lastSyncResult"]!.GetValue<string>());
            Assert.Contains(await FeedAsync(c.Tenant.TenantId), e => e["type"]!.GetValue<string>() == "dsync.directory.authorization_required");
            Assert.DoesNotContain(await UsersAsync(c), u => u["userName"]!.GetValue<string>() == erin["primaryEmail"]!.GetValue<string>());

            // Not connected: a sync is refused in problem+json; nothing is queued.
            var refused = await c.Tenant.Admin.PostAsync($"/api/v1/directories/{c.DirectoryId}/sync", null);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);

            // The re-authorize button: a fresh URL, consent, callback, connected and synced.
            var again = await (await c.Tenant.Admin.PostAsync($"/api/v1/directories/{c.DirectoryId}/authorize", null)).Content.ReadFromJsonAsync<JsonObject>();
            var callback = await GoogleTestDirectory.CallbackAsync(App, Google, again!["authorizeUrl"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
            await App.DrainQueuesAsync();
            Assert.Equal("connected", (await DirectoryAsync(c))["state"]!.GetValue<string>());
            Assert.Contains(await UsersAsync(c), u => u["userName"]!.GetValue<string>() == erin["primaryEmail"]!.GetValue<string>());
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task The_timer_syncs_a_connected_directory_every_sync_interval()
    {
        await OneAtATime.WaitAsync();
        try
        {
            var c = await ConnectAsync();
            await App.DrainQueuesAsync();
            var frank = Google.AddUser(Unique("frank"), "Frank", "Fox");
            await App.Get<GoogleSync>().StartDueAsync(default);
            await App.DrainQueuesAsync();
            Assert.DoesNotContain(await UsersAsync(c), u => u["userName"]!.GetValue<string>() == frank["primaryEmail"]!.GetValue<string>());

            App.Clock.Advance(TimeSpan.FromMinutes(31));
            await App.Get<GoogleSync>().StartDueAsync(default);
            await App.DrainQueuesAsync();
            Assert.Contains(await UsersAsync(c), u => u["userName"]!.GetValue<string>() == frank["primaryEmail"]!.GetValue<string>());
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task The_setup_portal_offers_Google_Workspace_without_SCIM_and_its_authorize_link_connects_the_directory()
    {
        await OneAtATime.WaitAsync();
        try
        {
            var tenant = await Setup.SetupPortalTenant.CreateAsync(App);
            var link = await tenant.CreateLinkAsync(["dsync"]);
            var browser = App.CreateAnonymousClient();
            var field = Setup.SetupPortalTenant.CsrfField(await Setup.SetupPortalTenant.OpenPageAsync(browser, link));
            Assert.Equal(HttpStatusCode.SeeOther, (await browser.PostAsync(link.Path + "/idp",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field, ["idp"] = "google" }))).StatusCode);
            var page = await browser.GetStringAsync(link.Path + "/dsync");
            Assert.Contains("Google Workspace (no SCIM)", page);
            Assert.Contains("id=\"google-directory\"", page);

            var authorized = await browser.PostAsync(link.Path + "/dsync/google", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = field }));
            Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
            var html = await authorized.Content.ReadAsStringAsync();
            var href = System.Text.RegularExpressions.Regex.Match(html, "id=\"google-authorize\" href=\"([^\"]+)\"").Groups[1].Value;
            var url = System.Net.WebUtility.HtmlDecode(href);
            Assert.StartsWith(Google.BaseUrl + "/o/oauth2/v2/auth?", url);

            var directory = Assert.Single(await App.Get<Sso.Functions.DirectorySync.DirectoryRecordStore>()
                .ListDirectoriesOfTenantAsync(new TenantId(tenant.TenantId), default));
            Assert.Equal("google-directory", directory.Provider);
            Assert.Equal(HttpStatusCode.OK, (await GoogleTestDirectory.CallbackAsync(App, Google, url)).StatusCode);
            var view = await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}/directories/{directory.Id}");
            Assert.Equal("connected", view!["state"]!.GetValue<string>());
            await App.DrainQueuesAsync();
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task Deleting_the_tenant_deletes_the_refresh_token_and_the_timer_forgets_the_directory()
    {
        await OneAtATime.WaitAsync();
        try
        {
            var c = await ConnectAsync();
            await App.DrainQueuesAsync();
            var directoryId = new Sso.Functions.DirectorySync.DirectoryId(c.DirectoryId);
            var secrets = App.Get<ISecretStore>();
            Assert.NotNull(await secrets.GetAsync(GoogleAuthorization.RefreshTokenSecretName(directoryId), default));
            var store = App.Get<Sso.Functions.DirectorySync.DirectorySyncStore>();
            Assert.Contains(await store.QuerySyncStatesAsync(default).ToListAsync(), s => s.DirectoryId == directoryId);

            Assert.Equal(HttpStatusCode.NoContent, (await c.Tenant.Admin.DeleteAsync($"/api/v1/tenants/{c.Tenant.TenantId}")).StatusCode);
            await App.DrainQueuesAsync();
            Assert.Null(await App.Get<Sso.Functions.DirectorySync.DirectoryRecordStore>().FindDirectoryAsync(directoryId, default));
            Assert.Null(await secrets.GetAsync(GoogleAuthorization.RefreshTokenSecretName(directoryId), default));
            Assert.DoesNotContain(await store.QuerySyncStatesAsync(default).ToListAsync(), s => s.DirectoryId == directoryId);
            var table = await App.Get<TableStorage>().GetTableAsync(Sso.Functions.DirectorySync.DirectoryPartitionWriter.TableName, default);
            Assert.False((await table.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(
                Sso.Functions.DirectorySync.DirectorySyncStore.PulledIndexPartition, c.DirectoryId)).HasValue);
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task Bad_input_gets_its_own_error_format()
    {
        var admin = App.CreateAdminClient();
        var missing = await admin.PostAsync("/api/v1/directories/dir_00000000000000000000000000/sync", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
        var unknownProvider = await admin.PostAsJsonAsync($"/api/v1/tenants/{(await TestTenant.CreateAsync(App)).TenantId}/directories",
            new { name = "x", provider = "google-directory-v2" });
        Assert.Equal(HttpStatusCode.BadRequest, unknownProvider.StatusCode);
        Assert.Contains("google-directory", await unknownProvider.Content.ReadAsStringAsync());
        var badState = await App.CreateAnonymousClient().GetAsync("/google/callback?code=x&state=nonsense");
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Equal("text/html", badState.Content.Headers.ContentType!.MediaType);
    }

    /// <summary>Records what a <see cref="GoogleSync"/> queues, delays included, instead of sending it: the test runs each message itself.</summary>
    private sealed class RecordingQueue : IWorkQueue
    {
        public List<(WorkEnvelope Message, TimeSpan Delay)> Sent { get; } = [];

        public Task SendAsync(string queueName, IReadOnlyList<WorkEnvelope> messages, CancellationToken cancellationToken)
        {
            lock (Sent) Sent.AddRange(messages.Select(m => (m, TimeSpan.Zero)));
            return Task.CompletedTask;
        }

        public Task SendLaterAsync(string queueName, WorkEnvelope message, TimeSpan delay, CancellationToken cancellationToken)
        {
            lock (Sent) Sent.Add((message, delay));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_429_with_Retry_After_requeues_the_page_at_least_that_late_by_the_service_clock()
    {
        await OneAtATime.WaitAsync();
        try
        {
            var c = await ConnectAsync();
            await App.DrainQueuesAsync();
            var queue = new RecordingQueue();
            var sync = ActivatorUtilities.CreateInstance<GoogleSync>(App.Services, (IWorkQueue)queue);
            var directoryId = new DirectoryId(c.DirectoryId);

            // A sync whose first users page answers 429 with this Retry-After: the delay the page is queued again with.
            async Task<TimeSpan> RetryDelayAsync(string retryAfter)
            {
                Google.Fail("/admin/directory/v1/users?customer=my_customer", 429, retryAfter: retryAfter);
                queue.Sent.Clear();
                Assert.Equal(SyncStart.Started, await sync.StartAsync(directoryId, default));
                var first = Assert.Single(queue.Sent);
                queue.Sent.Clear();
                await sync.HandleAsync(new WorkItem(first.Message.MessageId, first.Message.Kind, first.Message.Body, 1), default);
                var retry = Assert.Single(queue.Sent);
                Assert.Contains("attempt\":1", retry.Message.Body, StringComparison.OrdinalIgnoreCase);
                // The rest of the run (Google answers now), so the next sync may start.
                while (queue.Sent.Count > 0)
                {
                    var next = queue.Sent[0];
                    queue.Sent.RemoveAt(0);
                    await sync.HandleAsync(new WorkItem(next.Message.MessageId, next.Message.Kind, next.Message.Body, 1), default);
                }
                Assert.Equal("succeeded", (await DirectoryAsync(c))["lastSyncResult"]!.GetValue<string>());
                return retry.Delay;
            }

            // Seconds: exactly that (the tests' own backoff is 0 s).
            Assert.Equal(TimeSpan.FromSeconds(120), await RetryDelayAsync("120"));
            // An HTTP date: read against the service's clock, not the machine's (the date has whole seconds).
            var at = App.Clock.GetUtcNow().AddMinutes(5);
            var delay = await RetryDelayAsync(at.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            Assert.InRange(delay, TimeSpan.FromSeconds(299), TimeSpan.FromSeconds(300));
            // Capped: a page never waits past the cap, whatever Google asks.
            Assert.Equal(GoogleSync.MaxRetryDelay, await RetryDelayAsync("86400"));
        }
        finally
        {
            Google.ClearFailures();
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task A_groups_page_asks_Google_for_a_few_groups_so_each_step_stays_short()
    {
        await OneAtATime.WaitAsync();
        var pageSize = Google.PageSize;
        try
        {
            var member = Google.AddUser(Unique("gina"), "Gina", "Gray");
            var names = Enumerable.Range(0, GoogleSync.GroupsPerPage + 1).Select(i => $"Team {i} {Guid.NewGuid():N}").ToList();
            foreach (var name in names) Google.AddGroup(name, (member["id"]!.GetValue<string>(), "USER"));
            Google.PageSize = 500;
            var before = Google.Requests.Count;
            var c = await ConnectAsync();
            await App.DrainQueuesAsync();

            Assert.Equal("succeeded", (await DirectoryAsync(c))["lastSyncResult"]!.GetValue<string>());
            var listings = Google.Requests.Skip(before).Where(r => r.PathAndQuery.StartsWith("/admin/directory/v1/groups?", StringComparison.Ordinal)).ToList();
            Assert.All(listings, r => Assert.Contains($"maxResults={GoogleSync.GroupsPerPage}", r.PathAndQuery));
            Assert.True(listings.Count >= 2, $"{listings.Count} group pages");
            var groups = (await GroupsAsync(c)).Select(g => g["displayName"]!.GetValue<string>()).ToHashSet();
            Assert.Subset(groups, names.ToHashSet());
        }
        finally
        {
            Google.PageSize = pageSize;
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task An_authorization_never_redeemed_is_swept_once_expired_and_a_fresh_one_is_kept()
    {
        await OneAtATime.WaitAsync();
        try
        {
            var tenant = await TestTenant.CreateAsync(App);
            var (_, directoryId, created) = await GoogleTestDirectory.CreateAsync(tenant, "Google Workspace");
            async Task<string> AuthorizeUrlAsync() =>
                (await (await tenant.Admin.PostAsync($"/api/v1/directories/{directoryId}/authorize", null)).Content.ReadFromJsonAsync<JsonObject>())!
                ["authorizeUrl"]!.GetValue<string>();
            var table = await App.Get<TableStorage>().GetTableAsync(DirectoryPartitionWriter.TableName, default);
            async Task<bool> StoredAsync(string url) =>
                (await table.GetEntityIfExistsAsync<TableEntity>(directoryId, GoogleAuthorization.PendingRowKey(GoogleTestDirectory.StateOf(url)))).HasValue;
            Task<HttpResponseMessage> CallbackAsync(string url) => GoogleTestDirectory.CallbackAsync(App, Google, url);

            var openedThenExpired = created["authorizeUrl"]!.GetValue<string>();
            var neverOpened = await AuthorizeUrlAsync();
            App.Clock.Advance(GoogleAuthorization.Lifetime + TimeSpan.FromMinutes(1));
            var fresh = await AuthorizeUrlAsync();
            Assert.True(await StoredAsync(neverOpened));

            // Expired is refused at the callback, swept or not.
            Assert.Equal(HttpStatusCode.BadRequest, (await CallbackAsync(openedThenExpired)).StatusCode);
            await GoogleSync.Timer.Handler(App.Services, default);
            Assert.False(await StoredAsync(neverOpened));
            Assert.True(await StoredAsync(fresh));
            Assert.Equal(HttpStatusCode.BadRequest, (await CallbackAsync(neverOpened)).StatusCode);
            var now = App.Clock.GetUtcNow().UtcDateTime.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
            await foreach (var row in table.QueryAsync<TableEntity>($"PartitionKey eq '{GoogleAuthorization.ExpiryIndexPartition}'"))
                Assert.True(string.CompareOrdinal(row.RowKey, now) > 0, $"an expired index row is left: {row.RowKey}");

            // The fresh one still connects the directory.
            Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(fresh)).StatusCode);
            await App.DrainQueuesAsync();
            Assert.Equal("connected", (await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}/directories/{directoryId}"))!
                ["state"]!.GetValue<string>());
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    [Fact]
    public async Task Reauthorizing_is_an_operation_without_HTTP_and_refuses_a_directory_that_is_not_Googles()
    {
        var tenant = await TestTenant.CreateAsync(App);
        var scim = (await (await tenant.Admin.PostAsJsonAsync($"/api/v1/tenants/{tenant.TenantId}/directories", new { name = "Okta" }))
            .Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var google = (await GoogleTestDirectory.CreateAsync(tenant, "Google Workspace")).DirectoryId;
        var authorization = App.Get<GoogleAuthorization>();

        var refused = await authorization.ReauthorizeAsync(new DirectoryId(scim), default);
        Assert.False(refused.IsSuccess);
        Assert.Equal(404, refused.Error.Status);
        var started = await authorization.ReauthorizeAsync(new DirectoryId(google), default);
        Assert.True(started.IsSuccess);
        var state = GoogleTestDirectory.StateOf(started.Value.AuthorizeUrl);
        Assert.StartsWith(google + ".", state);
        var table = await App.Get<TableStorage>().GetTableAsync(DirectoryPartitionWriter.TableName, default);
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>(google, GoogleAuthorization.PendingRowKey(state))).HasValue);
    }
}
