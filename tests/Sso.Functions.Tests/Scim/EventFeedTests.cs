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

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=abc")]
    [InlineData("tenantId=nope")]
    [InlineData("after=../../x")]
    public async Task Refuses_a_bad_feed_query(string query)
    {
        var a = await CreateAsync(App);

        var response = await a.Admin.GetAsync("/api/v1/events?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
