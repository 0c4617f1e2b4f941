using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Outbox;
using Sso.Functions.Tests.Deprovisioning;
using Sso.Testing;

namespace Sso.Functions.Tests.GoogleDirectory;

/// <summary>A fake of its own, so the directory holds exactly the users this test lists.</summary>
public sealed class GoogleGroupStepFixture() : GoogleAppFixture(pageSize: 100);

/// <summary>
/// A groups step that adds many members takes their userNames from one listing of the directory's
/// live users, not a point read each (Azurite scans the directory's partition for every one), and
/// still writes each membership once, with its own <c>dsync.group.user_added</c>, under the member's
/// current userName.
/// </summary>
public sealed class GoogleGroupStepTests(GoogleGroupStepFixture fixture) : IClassFixture<GoogleGroupStepFixture>
{
    [Fact]
    public async Task A_group_adding_many_members_reads_their_names_from_one_listing_and_emits_one_event_per_membership()
    {
        var app = fixture.App;
        var google = fixture.Google;
        var many = DirectoryChanges.ManyMembers + 10;
        var users = Enumerable.Range(0, many).Select(i => google.AddUser($"user{i}.{Guid.NewGuid():N}@acme.test", "User", i.ToString())).ToList();
        var big = google.AddGroup("Big " + Guid.NewGuid().ToString("N")[..6], users.Select(u => (u["id"]!.GetValue<string>(), "USER")).ToArray());
        var small = google.AddGroup("Small " + Guid.NewGuid().ToString("N")[..6], users.Take(3).Select(u => (u["id"]!.GetValue<string>(), "USER")).ToArray());

        var tenant = await TestTenant.CreateAsync(app);
        var directory = await GoogleTestDirectory.CreateAsync(tenant);
        var directoryId = directory.DirectoryId;

        using var reads = new UserPointReads(directoryId);
        await directory.AuthorizeAsync(google);
        await app.DrainQueuesAsync();

        var view = await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}/directories/{directoryId}");
        Assert.Equal("succeeded", view!["lastSyncResult"]!.GetValue<string>());
        // One read per listed user (is it new or changed?), and for the small group one per member it adds;
        // the big group's members come from the listing (a point read each would be `many` more).
        Assert.InRange(reads.Count, many, many + 3);

        var groups = (await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directoryId}/groups?limit=200"))!["data"]!.AsArray()
            .Select(g => g!.AsObject()).ToList();
        var bigView = groups.Single(g => g["displayName"]!.GetValue<string>() == big["name"]!.GetValue<string>());
        var smallView = groups.Single(g => g["displayName"]!.GetValue<string>() == small["name"]!.GetValue<string>());
        Assert.Equal(users.Select(u => u["primaryEmail"]!.GetValue<string>()).Order(StringComparer.Ordinal),
            bigView["members"]!.AsArray().Select(m => m!["userName"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(3, smallView["members"]!.AsArray().Count);

        // One user_added per membership, no more, no less.
        var events = await FeedAsync(app, tenant.TenantId);
        var bigAdded = events.Where(e => e["type"]!.GetValue<string>() == "dsync.group.user_added"
                                         && e["data"]!["group"]!["id"]!.GetValue<string>() == bigView["id"]!.GetValue<string>()).ToList();
        Assert.Equal(many, bigAdded.Count);
        Assert.Equal(many, bigAdded.Select(e => e["data"]!["user"]!["id"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(3, events.Count(e => e["type"]!.GetValue<string>() == "dsync.group.user_added"
                                          && e["data"]!["group"]!["id"]!.GetValue<string>() == smallView["id"]!.GetValue<string>()));

        // A renamed user and many new members: the new members come from a fresh listing, which holds the new name.
        var renamed = $"renamed.{Guid.NewGuid():N}@acme.test";
        users[0]["primaryEmail"] = renamed;
        var more = Enumerable.Range(0, many).Select(i => google.AddUser($"more{i}.{Guid.NewGuid():N}@acme.test", "More", i.ToString())).ToList();
        var bigger = google.AddGroup("Bigger " + Guid.NewGuid().ToString("N")[..6],
            more.Append(users[0]).Select(u => (u["id"]!.GetValue<string>(), "USER")).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Admin.PostAsync($"/api/v1/directories/{directoryId}/sync", null)).StatusCode);
        await app.DrainQueuesAsync();

        groups = (await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directoryId}/groups?limit=200"))!["data"]!.AsArray()
            .Select(g => g!.AsObject()).ToList();
        var biggerView = groups.Single(g => g["displayName"]!.GetValue<string>() == bigger["name"]!.GetValue<string>());
        Assert.Equal(more.Select(u => u["primaryEmail"]!.GetValue<string>()).Append(renamed).Order(StringComparer.Ordinal),
            biggerView["members"]!.AsArray().Select(m => m!["userName"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Contains(groups.Single(g => g["id"]!.GetValue<string>() == bigView["id"]!.GetValue<string>())["members"]!.AsArray(),
            m => m!["userName"]!.GetValue<string>() == renamed);
        events = await FeedAsync(app, tenant.TenantId);
        Assert.Equal(many + 1, events.Count(e => e["type"]!.GetValue<string>() == "dsync.group.user_added"
                                                 && e["data"]!["group"]!["id"]!.GetValue<string>() == biggerView["id"]!.GetValue<string>()));
    }

    private static async Task<List<JsonObject>> FeedAsync(SsoAppFactory app, string tenantId)
    {
        await app.FlushAsync();
        app.Clock.Advance(EventFeedStore.SettleTime + TimeSpan.FromSeconds(1));
        var feed = await app.CreateAdminClient().GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenantId}&limit=1000");
        return feed!["data"]!.AsArray().Select(e => e!.AsObject()).ToList();
    }

    /// <summary>This process's point reads of the directory's user rows (by the request URL), from the HTTP client's activities.</summary>
    private sealed class UserPointReads : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentBag<string> _urls = [];

        public UserPointReads(string directoryId)
        {
            var partition = $"PartitionKey='{directoryId}'";
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "System.Net.Http",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = activity =>
                {
                    if (activity.GetTagItem("http.request.method") as string != "GET" || activity.GetTagItem("url.full") is not string full) return;
                    var path = Uri.UnescapeDataString(new Uri(full).AbsolutePath);
                    if (path.Contains(partition, StringComparison.Ordinal) && path.Contains("RowKey='user|", StringComparison.Ordinal)) _urls.Add(path);
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public int Count => _urls.Count;

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>A fake of its own, so the directory holds exactly the users this test lists.</summary>
public sealed class GoogleUserPageFixture() : GoogleAppFixture(pageSize: 100);

/// <summary>
/// A users page creates its new users many to a transaction; a user whose userName another user of
/// the page holds fails its transaction, and that transaction's users are then written one by one:
/// each user is still created whole with exactly one <c>dsync.user.created</c>, the duplicate refused.
/// </summary>
public sealed class GoogleUserPageTests(GoogleUserPageFixture fixture) : IClassFixture<GoogleUserPageFixture>
{
    [Fact]
    public async Task New_users_are_created_many_to_a_transaction_and_one_taken_userName_refuses_only_that_user()
    {
        var app = fixture.App;
        var google = fixture.Google;
        var users = Enumerable.Range(0, 40).Select(i => google.AddUser($"user{i}.{Guid.NewGuid():N}@acme.test", "User", i.ToString())).ToList();
        var twin = google.AddUser(users[5]["primaryEmail"]!.GetValue<string>(), "Twin", "Five");

        var tenant = await TestTenant.CreateAsync(app);
        var directoryId = (await GoogleTestDirectory.ConnectAsync(tenant, google)).DirectoryId;
        await app.DrainQueuesAsync();

        var view = await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/tenants/{tenant.TenantId}/directories/{directoryId}");
        Assert.Equal("succeeded", view!["lastSyncResult"]!.GetValue<string>());
        Assert.Equal(40, view["counts"]!["created"]!.GetValue<int>());
        var listed = (await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directoryId}/users?limit=200"))!["data"]!.AsArray()
            .Select(u => u!.AsObject()).ToList();
        Assert.Equal(users.Select(u => u["primaryEmail"]!.GetValue<string>()).Order(StringComparer.Ordinal),
            listed.Select(u => u["userName"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Single(listed, u => u["userName"]!.GetValue<string>() == twin["primaryEmail"]!.GetValue<string>());

        await app.FlushAsync();
        app.Clock.Advance(EventFeedStore.SettleTime + TimeSpan.FromSeconds(1));
        var feed = (await app.CreateAdminClient().GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={tenant.TenantId}&limit=1000"))!["data"]!
            .AsArray().Select(e => e!.AsObject()).ToList();
        var userCreated = feed.Where(e => e["type"]!.GetValue<string>() == "dsync.user.created").Select(e => e["data"]!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(40, userCreated.Count);
        Assert.Equal(listed.Select(u => u["id"]!.GetValue<string>()).Order(StringComparer.Ordinal), userCreated.Order(StringComparer.Ordinal));
    }
}
