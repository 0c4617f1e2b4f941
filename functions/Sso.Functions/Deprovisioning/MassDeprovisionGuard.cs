using System.Globalization;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Tenants;

using Sso.Functions.Outbox;

namespace Sso.Functions.Deprovisioning;

/// <summary>
/// The mass-deprovisioning guard (what happens when someone deletes the app in Okta): detects a
/// burst of deprovisionings at dispatch, parks the work it causes while the directory is held,
/// and carries out the administrator's release or cancel. Rows and table: <see cref="MassDeprovisionHoldStore"/>;
/// the JSON of a hold: <see cref="MassDeprovisionHoldViews"/>.
/// Work is parked where it would run (the deprovisioning and webhook workers), so a hold also
/// catches what was queued just before the trigger.
/// </summary>
public sealed partial class MassDeprovisionGuard(
    MassDeprovisionHoldStore store, OutboxPublisher publisher, TenantStore tenants, DirectoryUserStore directories, IWorkQueue queue,
    TimeProvider clock, ILogger<MassDeprovisionGuard> logger) : Webhooks.IDeliveryHold
{
    public const string TableName = MassDeprovisionHoldStore.TableName;
    public const string TriggeredEvent = "dsync.directory.mass_deprovision";
    public const string ReleasedEvent = "dsync.directory.mass_deprovision_released";
    public const string CancelledEvent = "dsync.directory.mass_deprovision_cancelled";
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan UserCountMaxAge = TimeSpan.FromMinutes(1);
    public const int MaxUsersInView = MassDeprovisionHoldViews.MaxUsersInView;

    // ---- detection (at dispatch of dsync.user.deprovisioned) ----

    /// <summary>
    /// Records the deprovisioning in the window and, when the window now holds more than the
    /// tenant's share of the directory's users (and at least its minimum), records one
    /// <c>dsync.directory.mass_deprovision</c> and, if the tenant opted in, starts a hold. Runs
    /// before the event's tasks are queued, so a hold started here also parks the triggering work.
    /// </summary>
    public async Task ObserveAsync(EventRecord record, CancellationToken cancellationToken)
    {
        if (record.Type != DirectoryEvents.UserDeprovisioned || record.DirectoryId is not { } directoryId
            || record.Data["id"]?.GetValue<string>() is not { } userId)
            return;
        var table = await store.TableAsync(cancellationToken);
        await MassDeprovisionHoldStore.RecordDeprovisionedAsync(table, directoryId, record.OccurredAt, userId, record.Id, cancellationToken);

        var settings = (await tenants.FindAsync(new TenantId(record.TenantId), cancellationToken))?.Settings ?? TenantSettings.Default;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var now = clock.GetUtcNow();
            var guard = await MassDeprovisionHoldStore.ReadGuardAsync(table, directoryId, cancellationToken);
            if (guard?.Status is HoldStatus.Held or HoldStatus.Releasing or HoldStatus.Cancelling) return;   // already in a hold; the workers park
            // One report per burst: a directory that triggered less than a window ago is still in it
            // (and after a release or cancel the administrator has already decided about it).
            if (guard is not null && now - guard.TriggeredAt < Window) return;

            var windowStart = now - Window > (guard?.Floor ?? DateTimeOffset.MinValue) ? now - Window : guard!.Floor;
            var window = await MassDeprovisionHoldStore.ReadWindowAsync(table, directoryId, windowStart, Window, cancellationToken);
            var deprovisioned = window.Count;
            if (deprovisioned < settings.MassDeprovisionMinUsers) return;
            // The directory as it was when the window opened: who was active when last counted, plus
            // who had left in the window by then (those who left later were still counted active).
            var (active, countedAt) = await ActiveUsersAsync(table, new DirectoryId(directoryId), now, cancellationToken);
            var directoryUsers = active + window.Count(w => w.Value <= countedAt.UtcTicks);
            if (deprovisioned <= settings.MassDeprovisionThreshold * directoryUsers) return;

            var holdId = settings.HoldMassDeprovision ? Ids.New("hld_") : null;
            var triggered = new EventRecord(EventRecord.NewId(now), TriggeredEvent, record.TenantId, directoryId, null, now, new JsonObject
            {
                ["deprovisionedUsers"] = deprovisioned,
                ["directoryUsers"] = directoryUsers,
                ["threshold"] = settings.MassDeprovisionThreshold,
                ["minUsers"] = settings.MassDeprovisionMinUsers,
                ["windowMinutes"] = (int)Window.TotalMinutes,
                ["windowStart"] = windowStart.ToString("O", CultureInfo.InvariantCulture),
                ["held"] = holdId is not null,
                ["holdId"] = holdId,
            });
            // A hold starts now; without one the floor still moves, so this burst is reported once.
            List<TableTransactionAction> actions =
            [
                MassDeprovisionHoldStore.WriteGuard(guard,
                    new GuardRow(directoryId, holdId, holdId is null ? null : HoldStatus.Held, now, now), now),
                new(TableTransactionActionType.Add, triggered.ToOutboxEntity(directoryId)),
            ];
            if (holdId is not null)
                actions.Add(new(TableTransactionActionType.Add, new HoldRow(directoryId, holdId, record.TenantId, HoldStatus.Held, now,
                    windowStart, deprovisioned, directoryUsers, settings.MassDeprovisionThreshold, settings.MassDeprovisionMinUsers).ToEntity()));
            try
            {
                await table.SubmitTransactionAsync(actions, cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
            {
                continue;   // another dispatch triggered first: read its decision
            }
            LogTriggered(logger, record.TenantId, directoryId, deprovisioned, directoryUsers, holdId is not null);
            Publish(directoryId, triggered);
            return;
        }
        throw new InvalidOperationException("The mass-deprovisioning guard kept changing; retry.");
    }

    private async Task<(int Active, DateTimeOffset CountedAt)> ActiveUsersAsync(TableClient table, DirectoryId directoryId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (await MassDeprovisionHoldStore.ReadUserCountAsync(table, directoryId.Value, cancellationToken) is { } cached
            && now - cached.CountedAt < UserCountMaxAge)
            return cached;
        var active = await directories.CountActiveUsersAsync(directoryId, cancellationToken);
        await MassDeprovisionHoldStore.WriteUserCountAsync(table, directoryId.Value, active, now, cancellationToken);
        return (active, now);
    }

    // ---- parking (in the workers) ----

    /// <summary>
    /// Parks the work item instead of running it when the directory is held; true when parked.
    /// Parking commits only if the hold is still held (the guard row's ETag), so nothing is parked
    /// into a hold that a release or cancel is already emptying.
    /// </summary>
    public async Task<bool> TryParkAsync(string directoryId, string queueName, WorkItem item, string? userId, string? userName,
        CancellationToken cancellationToken)
    {
        var table = await store.TableAsync(cancellationToken);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var guard = await MassDeprovisionHoldStore.ReadGuardAsync(table, directoryId, cancellationToken);
            if (guard is not { Status: HoldStatus.Held, HoldId: { } holdId }) return false;
            var now = clock.GetUtcNow();
            var parked = new ParkedItem(directoryId, holdId, queueName, item.MessageId, item.Kind, item.Body, userId, userName,
                ParkedStatus.Parked, now);
            try
            {
                await table.SubmitTransactionAsync(
                [
                    new(TableTransactionActionType.UpdateMerge, new TableEntity(directoryId, GuardRow.RowKey) { ["LastParkedAt"] = now }, guard.ETag),
                    new(TableTransactionActionType.UpsertReplace, parked.ToEntity()),
                ], cancellationToken);
                LogParked(logger, directoryId, holdId, item.Kind);
                return true;
            }
            catch (TableTransactionFailedException e) when (e.Status is 412 or 404)
            {
                // Another parker or a release moved the guard row: read it again.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 25 + attempt * 10)), cancellationToken);
            }
        }
        throw new InvalidOperationException("The directory's hold kept changing while work was parked; retry.");
    }

    // ---- the administrator's decision ----

    public enum Decision { Release, Cancel }

    public enum DecisionOutcome { Done, NotFound, Conflict }

    /// <summary>
    /// Release: every parked item is queued again, in the order it was caused, then the hold is
    /// lifted. Cancel: every parked item is recorded as cancelled and nothing runs. Either way the
    /// guard row first moves to releasing/cancelling (no more parking), and a call cut short by a
    /// crash is finished by calling it again.
    /// </summary>
    public async Task<(DecisionOutcome Outcome, JsonObject? Hold)> DecideAsync(DirectoryRecord directory, string holdId, Decision decision,
        CancellationToken cancellationToken)
    {
        var table = await store.TableAsync(cancellationToken);
        var directoryId = directory.Id.Value;
        var (working, final, finalItems) = decision == Decision.Release
            ? (HoldStatus.Releasing, HoldStatus.Released, ParkedStatus.Released)
            : (HoldStatus.Cancelling, HoldStatus.Cancelled, ParkedStatus.Cancelled);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (await MassDeprovisionHoldStore.FindHoldAsync(table, directoryId, holdId, cancellationToken) is not { } hold)
                return (DecisionOutcome.NotFound, null);
            var guard = await MassDeprovisionHoldStore.ReadGuardAsync(table, directoryId, cancellationToken);
            if (guard?.HoldId != holdId)
            {
                // Already decided: the same decision again answers the hold; the other one is a conflict.
                return (hold.Status == final ? DecisionOutcome.Done : DecisionOutcome.Conflict, await ViewAsync(table, hold, cancellationToken));
            }
            if (guard.Status != HoldStatus.Held && guard.Status != working)
                return (DecisionOutcome.Conflict, await ViewAsync(table, hold, cancellationToken));
            if (guard.Status == HoldStatus.Held)
            {
                try
                {
                    await table.UpdateEntityAsync((guard with { Status = working }).ToEntity(clock.GetUtcNow()), guard.ETag,
                        TableUpdateMode.Replace, cancellationToken);
                }
                catch (RequestFailedException e) when (e.Status is 412 or 404)
                {
                    continue;
                }
                guard = await MassDeprovisionHoldStore.ReadGuardAsync(table, directoryId, cancellationToken);
                if (guard is null) continue;
            }

            // No parker can add to the hold now; everything parked is in these rows.
            var pending = await MassDeprovisionHoldStore.PendingAsync(table, directoryId, holdId, cancellationToken);
            if (decision == Decision.Release) await EnqueueInOrderAsync(pending, holdId, cancellationToken);
            await MassDeprovisionHoldStore.MarkAsync(table, pending, finalItems, cancellationToken);

            var now = clock.GetUtcNow();
            var items = await MassDeprovisionHoldStore.ParkedItemsAsync(table, directoryId, holdId, cancellationToken);
            var tasks = items.Count(i => i.Queue == DeprovisionWorker.QueueName);
            var deliveries = items.Count - tasks;
            var users = items.Select(i => i.UserId).OfType<string>().Distinct(StringComparer.Ordinal).Count();
            var ended = new EventRecord(EventRecord.NewId(now), decision == Decision.Release ? ReleasedEvent : CancelledEvent,
                directory.TenantId.Value, directoryId, null, now, new JsonObject
                {
                    ["holdId"] = holdId,
                    ["users"] = users,
                    ["tasks"] = tasks,
                    ["webhookDeliveries"] = deliveries,
                });
            try
            {
                await table.SubmitTransactionAsync(
                [
                    new(TableTransactionActionType.UpdateReplace, new GuardRow(directoryId, null, null, now, guard.TriggeredAt).ToEntity(now), guard.ETag),
                    new(TableTransactionActionType.UpdateMerge, new TableEntity(directoryId, HoldRow.RowKeyOf(holdId))
                    {
                        ["Status"] = final.Name(),
                        [decision == Decision.Release ? "ReleasedAt" : "CancelledAt"] = now,
                    }, ETag.All),
                    new(TableTransactionActionType.Add, ended.ToOutboxEntity(directoryId)),
                ], cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status is 412 or 404)
            {
                continue;
            }
            LogDecided(logger, directory.TenantId.Value, directoryId, holdId, final.Name(), tasks + deliveries);
            Publish(directoryId, ended);
            var after = await MassDeprovisionHoldStore.FindHoldAsync(table, directoryId, holdId, cancellationToken)
                ?? throw new InvalidOperationException("The hold vanished after its decision.");
            return (DecisionOutcome.Done, await ViewAsync(table, after, cancellationToken));
        }
        return (DecisionOutcome.Conflict, null);
    }

    /// <summary>
    /// Sends parked items back to their queues, each queue's items in RowKey order (the order they
    /// were caused in). A released item gets a message id of its own: Service Bus would drop a
    /// repeat of the id it was first delivered under.
    /// </summary>
    private async Task EnqueueInOrderAsync(List<ParkedItem> pending, string holdId, CancellationToken cancellationToken)
    {
        foreach (var byQueue in pending.GroupBy(item => item.Queue))
            foreach (var chunk in byQueue.Chunk(100))
                await queue.SendAsync(byQueue.Key!, chunk.Select(item =>
                    new WorkEnvelope($"{item.MessageId}.{holdId}", item.Kind!, item.Body!)).ToList(),
                    cancellationToken);
    }

    // ---- views ----

    public async Task<IReadOnlyList<JsonObject>> ListAsync(DirectoryId directoryId, CancellationToken cancellationToken)
    {
        var table = await store.TableAsync(cancellationToken);
        var holds = new List<JsonObject>();
        foreach (var hold in (await MassDeprovisionHoldStore.ListHoldsAsync(table, directoryId.Value, cancellationToken))
                     .OrderByDescending(h => h.TriggeredAt))
            holds.Add(await ViewAsync(table, hold, cancellationToken));
        return holds;
    }

    public async Task<JsonObject?> FindAsync(DirectoryId directoryId, string holdId, CancellationToken cancellationToken)
    {
        var table = await store.TableAsync(cancellationToken);
        return await MassDeprovisionHoldStore.FindHoldAsync(table, directoryId.Value, holdId, cancellationToken) is { } hold
            ? await ViewAsync(table, hold, cancellationToken)
            : null;
    }

    /// <summary>Every hold not yet decided, in any directory, oldest first (see <see cref="MassDeprovisionHoldStore.ListUndecidedGuardsAsync"/>).</summary>
    public async Task<IReadOnlyList<JsonObject>> ListUndecidedAsync(CancellationToken cancellationToken)
    {
        var table = await store.TableAsync(cancellationToken);
        var holds = new List<(DateTimeOffset At, JsonObject View)>();
        foreach (var guard in await MassDeprovisionHoldStore.ListUndecidedGuardsAsync(table, cancellationToken))
            if (guard.HoldId is { } holdId
                && await MassDeprovisionHoldStore.FindHoldAsync(table, guard.DirectoryId, holdId, cancellationToken) is { } hold)
                holds.Add((hold.TriggeredAt ?? guard.TriggeredAt, await ViewAsync(table, hold, cancellationToken)));
        return holds.OrderBy(h => h.At).Select(h => h.View).ToList();
    }

    private async Task<JsonObject> ViewAsync(TableClient table, HoldRow hold, CancellationToken cancellationToken)
    {
        var items = await MassDeprovisionHoldStore.ParkedItemsAsync(table, hold.DirectoryId, hold.HoldId, cancellationToken);
        var users = MassDeprovisionHoldViews.Users(items);
        // Tasks carry no userName (a webhook delivery's payload does): read it from the directory.
        // 25 side by side: a hold of many users does not read them one round trip after another.
        foreach (var chunk in users.Where(u => u.Value is null).Select(u => u.Key).Chunk(25).ToList())
        {
            var found = await Task.WhenAll(chunk.Select(userId => directories.FindUserAsync(new DirectoryId(hold.DirectoryId), userId, cancellationToken)));
            for (var i = 0; i < chunk.Length; i++) users[chunk[i]] = found[i]?.UserName;
        }
        var status = hold.Status;
        // A decision under way shows as such (releasing, cancelling) until it completes.
        if (status == HoldStatus.Held && await MassDeprovisionHoldStore.ReadGuardAsync(table, hold.DirectoryId, cancellationToken) is { } guard
            && guard.HoldId == hold.HoldId)
            status = guard.Status ?? status;
        return MassDeprovisionHoldViews.View(hold, status, items, users, Window);
    }

    /// <summary>Deletes the directory's guard partition (its tenant was deleted).</summary>
    public Task PurgeAsync(DirectoryId directoryId, CancellationToken cancellationToken) => store.PurgeAsync(directoryId.Value, cancellationToken);

    // Committed with its outbox row: published after the answer, republished by the sweep if need be.
    private void Publish(string directoryId, EventRecord record) => publisher.Post(TableName, directoryId, [record]);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Mass deprovisioning in directory {DirectoryId} of tenant {TenantId}: {Deprovisioned} of {DirectoryUsers} users in the window; held: {Held}")]
    private static partial void LogTriggered(ILogger logger, string tenantId, string directoryId, int deprovisioned, int directoryUsers, bool held);

    [LoggerMessage(Level = LogLevel.Information, Message = "Parked {Kind} of directory {DirectoryId} in hold {HoldId}")]
    private static partial void LogParked(ILogger logger, string directoryId, string holdId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hold {HoldId} of directory {DirectoryId} (tenant {TenantId}) {Outcome}; {Count} parked items")]
    private static partial void LogDecided(ILogger logger, string tenantId, string directoryId, string holdId, string outcome, int count);
}
