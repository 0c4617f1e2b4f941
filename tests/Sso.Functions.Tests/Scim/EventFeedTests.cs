using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.Scim;

public class EventFeedTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    [Fact]
    public async Task Pages_events_in_order_across_directories_and_tenants()
    {
        var a = await CreateAsync(App);
        var b = await CreateAsync(App);
        var names = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var inA = $"a{i}.{Guid.NewGuid():N}@a.test";
            var inB = $"b{i}.{Guid.NewGuid():N}@b.test";
            await a.CreateUserAsync(inA);
            await b.CreateUserAsync(inB);
            names.Add(inA);
            names.Add(inB);
        }
        await App.FlushAsync();
        App.Clock.Advance(TimeSpan.FromSeconds(5));

        var all = new List<JsonObject>();
        string? cursor = null;
        while (true)
        {
            var page = (await a.Admin.GetFromJsonAsync<JsonObject>("/api/v1/events?limit=2" + (cursor is null ? "" : "&after=" + cursor)))!;
            var data = page["data"]!.AsArray();
            Assert.True(data.Count <= 2);
            if (data.Count == 0) break;
            all.AddRange(data.Select(e => e!.AsObject()));
            cursor = page["nextCursor"]!.GetValue<string>();
        }

        var ours = all.Where(e => names.Contains(e["data"]?["userName"]?.GetValue<string>() ?? "")).ToList();
        Assert.Equal(names, ours.Select(e => e["data"]!["userName"]!.GetValue<string>()));
        var ids = all.Select(e => e["id"]!.GetValue<string>()).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Filters_the_feed_by_tenant()
    {
        var a = await CreateAsync(App);
        var b = await CreateAsync(App);
        await a.CreateUserAsync($"only.{Guid.NewGuid():N}@a.test");
        await b.CreateUserAsync($"other.{Guid.NewGuid():N}@b.test");

        var events = await a.EventsAsync(App);

        Assert.NotEmpty(events);
        Assert.All(events, e => Assert.Equal(a.TenantId, e["tenantId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Holds_back_events_younger_than_the_settle_time()
    {
        var a = await CreateAsync(App);
        App.Clock.Advance(TimeSpan.FromSeconds(5));
        var before = (await a.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={a.TenantId}"))!["data"]!.AsArray().Count;
        await a.CreateUserAsync($"fresh.{Guid.NewGuid():N}@a.test");
        await App.FlushAsync();

        var now = (await a.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={a.TenantId}"))!["data"]!.AsArray().Count;
        App.Clock.Advance(TimeSpan.FromSeconds(5));
        var later = (await a.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?tenantId={a.TenantId}"))!["data"]!.AsArray().Count;

        Assert.Equal(before, now);
        Assert.Equal(before + 1, later);
    }

    [Fact]
    public async Task Republishes_an_event_left_in_an_outbox()
    {
        var a = await CreateAsync(App);
        var storage = App.Get<TableStorage>();
        var table = await storage.GetTableAsync("directory", default);
        var stranded = new EventRecord(EventRecord.NewId(App.Clock.GetUtcNow()), "dsync.user.updated", a.TenantId, a.DirectoryId, null,
            App.Clock.GetUtcNow(), new JsonObject { ["id"] = "usr_stranded" });
        await table.AddEntityAsync(stranded.ToOutboxEntity(a.DirectoryId));
        App.Clock.Advance(TimeSpan.FromMinutes(2));

        var republished = await App.Get<OutboxSweep>().SweepAsync(App.Clock.GetUtcNow() - TimeSpan.FromSeconds(30), default);

        Assert.True(republished >= 1);
        Assert.Contains(await a.EventsAsync(App), e => e["id"]!.GetValue<string>() == stranded.Id);
        Assert.Equal(0, await App.Get<OutboxSweep>().SweepAsync(App.Clock.GetUtcNow(), default));
    }

    [Fact]
    public async Task Pages_the_whole_feed_across_many_tenants_and_shards_with_a_small_limit()
    {
        var directories = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => CreateAsync(App)));
        var names = new HashSet<string>();
        foreach (var directory in directories)
            for (var i = 0; i < 2; i++)
            {
                var name = $"u{i}.{Guid.NewGuid():N}@many.test";
                await directory.CreateUserAsync(name);
                names.Add(name);
            }
        Assert.True(directories.Select(d => EventFeedStore.ShardOf(d.TenantId)).Distinct().Count() >= 4);

        var (events, _) = await ReadToEndAsync(App, directories[0].Admin, "", limit: 3);

        var ids = events.Select(e => e["id"]!.GetValue<string>()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var ours = events.Select(e => e["data"]?["userName"]?.GetValue<string>()).Where(n => n is not null && names.Contains(n)).ToList();
        Assert.Equal(names.Order(), ours.Order());
        // Within a tenant, the order the events entered the feed: here, the order they were made.
        foreach (var directory in directories)
        {
            var own = events.Where(e => e["tenantId"]!.GetValue<string>() == directory.TenantId).Select(e => e["id"]!.GetValue<string>()).ToList();
            Assert.Equal(own.Order(StringComparer.Ordinal), own);
        }
    }

    [Fact]
    public async Task Reads_an_event_id_cursor_of_the_old_feed_as_a_time_position()
    {
        var a = await CreateAsync(App);
        await a.CreateUserAsync($"before.{Guid.NewGuid():N}@a.test");
        await App.FlushAsync();
        App.Clock.Advance(TimeSpan.FromMinutes(1));
        var oldCursor = EventRecord.NewId(App.Clock.GetUtcNow());
        App.Clock.Advance(TimeSpan.FromMinutes(1));
        var after = await a.CreateUserAsync($"after.{Guid.NewGuid():N}@a.test");

        var tenantEvents = (await ReadToEndAsync(App, a.Admin, $"tenantId={a.TenantId}&", oldCursor)).Events;
        var globalEvents = (await ReadToEndAsync(App, a.Admin, "", oldCursor)).Events;

        Assert.Equal([after["userName"]!.GetValue<string>()], tenantEvents.Select(e => e["data"]!["userName"]!.GetValue<string>()));
        Assert.Contains(globalEvents, e => e["data"]?["userName"]?.GetValue<string>() == after["userName"]!.GetValue<string>());
        Assert.DoesNotContain(globalEvents, e => e["data"]?["userName"]?.GetValue<string>()?.StartsWith("before.") == true);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=abc")]
    [InlineData("tenantId=nope")]
    [InlineData("after=../../x")]
    [InlineData("after=cur_")]
    [InlineData("after=cur_!!")]
    [InlineData("after=cur_AQAAAAAAAAAAAA")]
    [InlineData("after=evt_12")]
    [InlineData("after=evt_99999999999999999999999")]
    public async Task Refuses_a_bad_feed_query(string query)
    {
        var a = await CreateAsync(App);

        var response = await a.Admin.GetAsync("/api/v1/events?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Refuses_a_cursor_of_another_feed()
    {
        var a = await CreateAsync(App);
        var b = await CreateAsync(App);
        await a.CreateUserAsync($"one.{Guid.NewGuid():N}@a.test");
        var tenantCursor = (await ReadToEndAsync(App, a.Admin, $"tenantId={a.TenantId}&")).Cursor;
        var globalCursor = (await ReadToEndAsync(App, a.Admin, "")).Cursor;

        Assert.Equal(HttpStatusCode.BadRequest, (await a.Admin.GetAsync($"/api/v1/events?after={tenantCursor}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await a.Admin.GetAsync($"/api/v1/events?tenantId={a.TenantId}&after={globalCursor}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await a.Admin.GetAsync($"/api/v1/events?tenantId={b.TenantId}&after={tenantCursor}")).StatusCode);
    }

    /// <summary>Follows nextCursor from <paramref name="after"/> to the end, as a consumer does; the cursor to poll with next.</summary>
    public static async Task<(List<JsonObject> Events, string? Cursor)> ReadToEndAsync(SsoAppFactory app, HttpClient admin, string query,
        string? after = null, int limit = 100)
    {
        await app.FlushAsync();
        app.Clock.Advance(TimeSpan.FromSeconds(5));
        var events = new List<JsonObject>();
        var cursor = after;
        while (true)
        {
            var response = await admin.GetAsync($"/api/v1/events?{query}limit={limit}" + (cursor is null ? "" : "&after=" + cursor));
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            var page = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            var data = page["data"]!.AsArray();
            Assert.True(data.Count <= limit);
            Assert.Equal(cursor, data.Count == 0 ? page["nextCursor"]?.GetValue<string>() : cursor);
            if (data.Count == 0) return (events, cursor);
            events.AddRange(data.Select(e => e!.AsObject()));
            cursor = page["nextCursor"]!.GetValue<string>();
        }
    }
}
