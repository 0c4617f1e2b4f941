using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.DirectorySync;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.Scim;

/// <summary>
/// Events that a crash left in an outbox and the sweep republished later, under their original
/// (older) ids. A class of its own: its feed holds events whose ids are older than the events
/// before them, which <see cref="EventFeedTests"/> checks never happens for sequential writes.
/// </summary>
public class EventFeedRecoveryTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    [Fact]
    public async Task A_republished_event_enters_after_the_cursor_a_reader_already_holds()
    {
        var a = await CreateAsync(App);
        await a.CreateUserAsync($"first.{Guid.NewGuid():N}@a.test");
        var tenantCursor = (await EventFeedTests.ReadToEndAsync(App, a.Admin, $"tenantId={a.TenantId}&")).Cursor;
        var globalCursor = (await EventFeedTests.ReadToEndAsync(App, a.Admin, "")).Cursor;
        Assert.NotNull(tenantCursor);
        Assert.NotNull(globalCursor);

        // A crash left an event in the outbox that is older than everything the reader has seen.
        var stranded = await StrandAsync(a, App.Clock.GetUtcNow() - TimeSpan.FromMinutes(1));
        App.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await App.Get<OutboxSweep>().SweepAsync(App.Clock.GetUtcNow() - TimeSpan.FromSeconds(30), default) >= 1);

        var tenantPage = await EventFeedTests.ReadToEndAsync(App, a.Admin, $"tenantId={a.TenantId}&", tenantCursor);
        var globalPage = await EventFeedTests.ReadToEndAsync(App, a.Admin, "", globalCursor);
        Assert.Equal([stranded.Id], tenantPage.Events.Select(e => e["id"]!.GetValue<string>()));
        Assert.Equal([stranded.Id], globalPage.Events.Select(e => e["id"]!.GetValue<string>()));
        // Read to the end, the cursors stay where they are until something new enters.
        Assert.Empty((await EventFeedTests.ReadToEndAsync(App, a.Admin, $"tenantId={a.TenantId}&", tenantPage.Cursor)).Events);
        Assert.Empty((await EventFeedTests.ReadToEndAsync(App, a.Admin, "", globalPage.Cursor)).Events);
    }

    [Fact]
    public async Task Keeps_each_event_once_when_the_sweep_races_the_publisher()
    {
        var a = await CreateAsync(App);
        var stranded = new List<EventRecord>();
        // More than one feed transaction's worth (49 events), so chunks race as well.
        for (var i = 0; i < 60; i++) stranded.Add(await StrandAsync(a, App.Clock.GetUtcNow() - TimeSpan.FromMinutes(5)));
        var publisher = App.Get<OutboxPublisher>();
        var sweep = App.Get<OutboxSweep>();
        var olderThan = App.Clock.GetUtcNow() - TimeSpan.FromSeconds(30);

        publisher.Post(DirectoryPartitionWriter.TableName, a.DirectoryId, stranded);
        await Task.WhenAll(
            sweep.SweepAsync(olderThan, default),
            sweep.SweepAsync(olderThan, default),
            publisher.PublishAsync([new CommittedEvents(DirectoryPartitionWriter.TableName, a.DirectoryId, stranded)], default),
            publisher.FlushAsync(default));
        await App.Get<OutboxSweep>().SweepAsync(olderThan, default);

        var ids = stranded.Select(e => e.Id).ToHashSet();
        var tenantFeed = (await a.EventsAsync(App)).Select(e => e["id"]!.GetValue<string>()).Where(ids.Contains).ToList();
        var globalFeed = (await EventFeedTests.ReadToEndAsync(App, a.Admin, "")).Events.Select(e => e["id"]!.GetValue<string>()).Where(ids.Contains).ToList();
        Assert.Equal(stranded.Select(e => e.Id).Order(), tenantFeed.Order());
        Assert.Equal(stranded.Select(e => e.Id).Order(), globalFeed.Order());
        // And the outbox is empty: nothing left for the next sweep.
        Assert.Equal(0, await App.Get<OutboxSweep>().SweepAsync(App.Clock.GetUtcNow(), default));
    }

    [Fact]
    public async Task A_committed_write_is_answered_as_a_success_when_publishing_fails_and_the_sweep_recovers_it()
    {
        var a = await CreateAsync(App);
        // The tenant's feed partition cannot be appended to: its counter row is not a number.
        var feed = await App.Get<TableStorage>().GetTableAsync(EventFeedStore.TableName, default);
        await feed.UpsertEntityAsync(new TableEntity(a.TenantId, "counter") { ["Last"] = "not a number" });

        var user = await a.CreateUserAsync($"committed.{Guid.NewGuid():N}@a.test");   // 201
        var userId = user["id"]!.GetValue<string>();
        bool IsCreated(JsonObject e) => e["type"]!.GetValue<string>() == "dsync.user.created" && e["data"]?["id"]?.GetValue<string>() == userId;

        Assert.DoesNotContain(await a.EventsAsync(App), IsCreated);
        await feed.DeleteEntityAsync(a.TenantId, "counter");
        App.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await App.Get<OutboxSweep>().SweepAsync(App.Clock.GetUtcNow() - TimeSpan.FromSeconds(30), default) >= 1);

        Assert.Single(await a.EventsAsync(App), IsCreated);
        // Its shard took the event on the first attempt; the republish did not copy it twice.
        Assert.Single((await EventFeedTests.ReadToEndAsync(App, a.Admin, "")).Events, IsCreated);
    }

    private async Task<EventRecord> StrandAsync(ScimTestDirectory directory, DateTimeOffset occurredAt)
    {
        var table = await App.Get<TableStorage>().GetTableAsync(DirectoryPartitionWriter.TableName, default);
        var stranded = new EventRecord(EventRecord.NewId(occurredAt), "dsync.user.updated", directory.TenantId, directory.DirectoryId, null,
            occurredAt, new JsonObject { ["id"] = "usr_stranded" });
        await table.AddEntityAsync(stranded.ToOutboxEntity(directory.DirectoryId));
        return stranded;
    }

}
