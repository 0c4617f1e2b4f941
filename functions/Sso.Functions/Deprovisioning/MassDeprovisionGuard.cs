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
/// The mass-deprovisioning guard (what happens when someone deletes the app in Okta).
///
/// Table "deprovisionholds", one partition per directory:
/// <list type="bullet">
/// <item><c>deprovisioned|&lt;ticks&gt;|&lt;user&gt;</c>: one marker per deprovisioning, keyed by when it happened,
/// written (idempotently) when its event is dispatched; the sliding window is a RowKey range.</item>
/// <item><c>guard</c>: the directory's current hold (id and status) and the floor below which markers no
/// longer count (the last trigger or the end of the last hold, so one burst triggers once). Every
/// write that parks work or moves a hold is conditional on this row's ETag: a release or cancel
/// that moved it makes a concurrent parker see the new status instead of parking into a hold
/// that is already being emptied.</item>
/// <item><c>hold|&lt;id&gt;</c>: what triggered a hold and how it ended.</item>
/// <item><c>parked|&lt;hold&gt;|&lt;message id&gt;</c>: a work item that would have run (a revoke-access or
/// remove-memberships task, a webhook delivery of <c>dsync.user.deprovisioned</c>), kept with its
/// queue and body; status parked, released or cancelled. Message ids start with the time-ordered
/// event id, so RowKey order is the order the work was caused in.</item>
/// <item><c>usercount</c>: the directory's active users, recounted at most once a minute.</item>
/// <item><c>event|</c>: the outbox for the guard's own events (the <see cref="OutboxSweep"/> covers this table).</item>
/// </list>
/// Work is parked where it would run (the deprovisioning and webhook workers), so a hold also
/// catches what was queued just before the trigger.
/// </summary>
public sealed partial class MassDeprovisionGuard(
    TableStorage storage, OutboxPublisher publisher, TenantStore tenants, DirectoryStore directories, IWorkQueue queue, TimeProvider clock,
    ILogger<MassDeprovisionGuard> logger)
{
    public const string TableName = "deprovisionholds";
    public const string TriggeredEvent = "dsync.directory.mass_deprovision";
    public const string ReleasedEvent = "dsync.directory.mass_deprovision_released";
    public const string CancelledEvent = "dsync.directory.mass_deprovision_cancelled";
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan UserCountMaxAge = TimeSpan.FromMinutes(1);

    public const string Held = "held";
    public const string Releasing = "releasing";
    public const string Cancelling = "cancelling";
    public const string Released = "released";
    public const string Cancelled = "cancelled";
    public const string Parked = "parked";

    private const string GuardRow = "guard";
    private const string UserCountRow = "usercount";
    private const string MarkerKind = "deprovisioned";
    private const string HoldKind = "hold";
    private const string ParkedKind = "parked";

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    private sealed record GuardState(string? HoldId, string? Status, DateTimeOffset Floor, DateTimeOffset TriggeredAt, ETag ETag);

    private static async Task<GuardState?> ReadGuardAsync(TableClient table, string directoryId, CancellationToken cancellationToken)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(directoryId, GuardRow, cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var entity = row.Value!;
        return new GuardState(entity.GetString("HoldId"), entity.GetString("Status"), entity.GetDateTimeOffset("Floor") ?? DateTimeOffset.MinValue,
            entity.GetDateTimeOffset("TriggeredAt") ?? DateTimeOffset.MinValue, entity.ETag);
    }

    private static TableEntity GuardEntity(string directoryId, string? holdId, string? status, DateTimeOffset floor, DateTimeOffset triggeredAt,
        DateTimeOffset now) =>
        new(directoryId, GuardRow) { ["HoldId"] = holdId, ["Status"] = status, ["Floor"] = floor, ["TriggeredAt"] = triggeredAt, ["ChangedAt"] = now };

    private static TableTransactionAction WriteGuard(GuardState? before, TableEntity after) => before is null
        ? new(TableTransactionActionType.Add, after)
        : new(TableTransactionActionType.UpdateReplace, after, before.ETag);

    private static string Ticks(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

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
        var table = await TableAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(directoryId, $"{MarkerKind}|{Ticks(record.OccurredAt)}|{TableKey.Escape(userId)}")
        {
            ["UserId"] = userId,
            ["EventId"] = record.Id,
        }, TableUpdateMode.Replace, cancellationToken);

        var settings = (await tenants.FindAsync(new TenantId(record.TenantId), cancellationToken))?.Settings ?? TenantSettings.Default;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var now = clock.GetUtcNow();
            var guard = await ReadGuardAsync(table, directoryId, cancellationToken);
            if (guard?.Status is Held or Releasing or Cancelling) return;   // already in a hold; the workers park
            // One report per burst: a directory that triggered less than a window ago is still in it
            // (and after a release or cancel the administrator has already decided about it).
            if (guard is not null && now - guard.TriggeredAt < Window) return;

            var windowStart = now - Window > (guard?.Floor ?? DateTimeOffset.MinValue) ? now - Window : guard!.Floor;
            var window = await ReadWindowAsync(table, directoryId, windowStart, cancellationToken);
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
                WriteGuard(guard, GuardEntity(directoryId, holdId, holdId is null ? null : Held, now, now, now)),
                new(TableTransactionActionType.Add, triggered.ToOutboxEntity(directoryId)),
            ];
            if (holdId is not null)
                actions.Add(new(TableTransactionActionType.Add, new TableEntity(directoryId, TableKey.Row(HoldKind, holdId))
                {
                    ["TenantId"] = record.TenantId,
                    ["Status"] = Held,
                    ["TriggeredAt"] = now,
                    ["WindowStart"] = windowStart,
                    ["DeprovisionedUsers"] = deprovisioned,
                    ["DirectoryUsers"] = directoryUsers,
                    ["Threshold"] = settings.MassDeprovisionThreshold,
                    ["MinUsers"] = settings.MassDeprovisionMinUsers,
                }));
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

    /// <summary>The users deprovisioned after <paramref name="windowStart"/>, each with the ticks of their first deprovisioning in it.</summary>
    private static async Task<Dictionary<string, long>> ReadWindowAsync(TableClient table, string directoryId, DateTimeOffset windowStart,
        CancellationToken cancellationToken)
    {
        var users = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(directoryId)}' and RowKey gt '{MarkerKind}|{Ticks(windowStart)}|~' and RowKey lt '{MarkerKind}}}'",
                           select: ["RowKey", "UserId"], cancellationToken: cancellationToken))
            users.TryAdd(row.GetString("UserId"), long.Parse(row.RowKey.AsSpan(MarkerKind.Length + 1, 19), CultureInfo.InvariantCulture));
        // Markers that left every window are dropped as they are passed (a few per dispatch).
        var old = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(directoryId)}' and RowKey gt '{MarkerKind}|' and RowKey lt '{MarkerKind}|{Ticks(windowStart - Window)}'",
                           maxPerPage: 100, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            old.Add(row.RowKey);
            if (old.Count == 100) break;
        }
        try
        {
            if (old.Count > 0)
                await table.SubmitTransactionAsync(old.Select(k => new TableTransactionAction(TableTransactionActionType.Delete,
                    new TableEntity(directoryId, k), ETag.All)), cancellationToken);
        }
        catch (TableTransactionFailedException e) when (e.Status == 404)
        {
            // A concurrent dispatch dropped them first.
        }
        return users;
    }

    private async Task<(int Active, DateTimeOffset CountedAt)> ActiveUsersAsync(TableClient table, DirectoryId directoryId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var cached = await table.GetEntityIfExistsAsync<TableEntity>(directoryId.Value, UserCountRow, cancellationToken: cancellationToken);
        if (cached.HasValue && cached.Value!.GetDateTimeOffset("CountedAt") is { } countedAt && now - countedAt < UserCountMaxAge)
            return (cached.Value.GetInt32("Active") ?? 0, countedAt);
        var active = 0;
        var users = await directories.TableAsync(cancellationToken);
        await foreach (var user in users.QueryAsync<TableEntity>(TableKey.KindFilter(directoryId.Value, DirectoryUser.Kind),
                           select: ["Active", "Deleted"], cancellationToken: cancellationToken))
            if (user.GetBoolean("Deleted") != true && user.GetBoolean("Active") != false) active++;
        await table.UpsertEntityAsync(new TableEntity(directoryId.Value, UserCountRow) { ["Active"] = active, ["CountedAt"] = now },
            TableUpdateMode.Replace, cancellationToken);
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
        var table = await TableAsync(cancellationToken);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var guard = await ReadGuardAsync(table, directoryId, cancellationToken);
            if (guard is not { Status: Held, HoldId: { } holdId }) return false;
            var now = clock.GetUtcNow();
            var parked = new TableEntity(directoryId, ParkedKey(holdId, item.MessageId))
            {
                ["Queue"] = queueName,
                ["MessageId"] = item.MessageId,
                ["Kind"] = item.Kind,
                ["Body"] = item.Body,
                ["UserId"] = userId,
                ["UserName"] = userName,
                ["Status"] = Parked,
                ["ParkedAt"] = now,
            };
            try
            {
                await table.SubmitTransactionAsync(
                [
                    new(TableTransactionActionType.UpdateMerge, new TableEntity(directoryId, GuardRow) { ["LastParkedAt"] = now }, guard.ETag),
                    new(TableTransactionActionType.UpsertReplace, parked),
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

    private static string ParkedKey(string holdId, string messageId) => $"{ParkedKind}|{TableKey.Escape(holdId)}|{TableKey.Escape(messageId)}";

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
        var table = await TableAsync(cancellationToken);
        var directoryId = directory.Id.Value;
        var (working, final) = decision == Decision.Release ? (Releasing, Released) : (Cancelling, Cancelled);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (!TableKey.FitsInKey(TableKey.Row(HoldKind, holdId))) return (DecisionOutcome.NotFound, null);
            var holdRow = await table.GetEntityIfExistsAsync<TableEntity>(directoryId, TableKey.Row(HoldKind, holdId), cancellationToken: cancellationToken);
            if (!holdRow.HasValue) return (DecisionOutcome.NotFound, null);
            var guard = await ReadGuardAsync(table, directoryId, cancellationToken);
            if (guard?.HoldId != holdId)
            {
                // Already decided: the same decision again answers the hold; the other one is a conflict.
                var status = holdRow.Value!.GetString("Status");
                return (status == final ? DecisionOutcome.Done : DecisionOutcome.Conflict, await ViewAsync(table, holdRow.Value, cancellationToken));
            }
            if (guard.Status != Held && guard.Status != working) return (DecisionOutcome.Conflict, await ViewAsync(table, holdRow.Value!, cancellationToken));
            if (guard.Status == Held)
            {
                try
                {
                    await table.UpdateEntityAsync(GuardEntity(directoryId, holdId, working, guard.Floor, guard.TriggeredAt, clock.GetUtcNow()), guard.ETag,
                        TableUpdateMode.Replace, cancellationToken);
                }
                catch (RequestFailedException e) when (e.Status is 412 or 404)
                {
                    continue;
                }
                guard = await ReadGuardAsync(table, directoryId, cancellationToken);
                if (guard is null) continue;
            }

            // No parker can add to the hold now; everything parked is in these rows.
            var pending = new List<TableEntity>();
            var prefix = $"{ParkedKind}|{TableKey.Escape(holdId)}|";
            await foreach (var row in table.QueryAsync<TableEntity>(
                               $"PartitionKey eq '{TableKey.Quote(directoryId)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}' and Status eq '{Parked}'",
                               cancellationToken: cancellationToken))
                pending.Add(row);
            if (decision == Decision.Release) await EnqueueInOrderAsync(pending, holdId, cancellationToken);
            foreach (var chunk in pending.Chunk(100))
                await table.SubmitTransactionAsync(chunk.Select(row => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                    new TableEntity(directoryId, row.RowKey) { ["Status"] = final }, ETag.All)), cancellationToken);

            var now = clock.GetUtcNow();
            var (tasks, deliveries, users) = await CountParkedAsync(table, directoryId, holdId, cancellationToken);
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
                    new(TableTransactionActionType.UpdateReplace, GuardEntity(directoryId, null, null, now, guard.TriggeredAt, now), guard.ETag),
                    new(TableTransactionActionType.UpdateMerge, new TableEntity(directoryId, TableKey.Row(HoldKind, holdId))
                    {
                        ["Status"] = final,
                        [decision == Decision.Release ? "ReleasedAt" : "CancelledAt"] = now,
                    }, ETag.All),
                    new(TableTransactionActionType.Add, ended.ToOutboxEntity(directoryId)),
                ], cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status is 412 or 404)
            {
                continue;
            }
            LogDecided(logger, directory.TenantId.Value, directoryId, holdId, final, tasks + deliveries);
            Publish(directoryId, ended);
            var after = await table.GetEntityAsync<TableEntity>(directoryId, TableKey.Row(HoldKind, holdId), cancellationToken: cancellationToken);
            return (DecisionOutcome.Done, await ViewAsync(table, after.Value, cancellationToken));
        }
        return (DecisionOutcome.Conflict, null);
    }

    /// <summary>
    /// Sends parked items back to their queues, each queue's items in RowKey order (the order they
    /// were caused in). A released item gets a message id of its own: Service Bus would drop a
    /// repeat of the id it was first delivered under.
    /// </summary>
    private async Task EnqueueInOrderAsync(List<TableEntity> pending, string holdId, CancellationToken cancellationToken)
    {
        foreach (var byQueue in pending.GroupBy(row => row.GetString("Queue")))
            foreach (var chunk in byQueue.Chunk(100))
                await queue.SendAsync(byQueue.Key, chunk.Select(row =>
                    new WorkEnvelope($"{row.GetString("MessageId")}.{holdId}", row.GetString("Kind"), row.GetString("Body"))).ToList(),
                    cancellationToken);
    }

    private static async Task<(int Tasks, int Deliveries, int Users)> CountParkedAsync(TableClient table, string directoryId, string holdId,
        CancellationToken cancellationToken)
    {
        var (tasks, deliveries) = (0, 0);
        var users = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in ParkedRowsAsync(table, directoryId, holdId, cancellationToken))
        {
            if (row.GetString("Queue") == DeprovisionWorker.QueueName) tasks++;
            else deliveries++;
            if (row.GetString("UserId") is { } userId) users.Add(userId);
        }
        return (tasks, deliveries, users.Count);
    }

    private static IAsyncEnumerable<TableEntity> ParkedRowsAsync(TableClient table, string directoryId, string holdId, CancellationToken cancellationToken)
    {
        var prefix = $"{ParkedKind}|{TableKey.Escape(holdId)}|";
        return table.QueryAsync<TableEntity>(
            $"PartitionKey eq '{TableKey.Quote(directoryId)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
            select: ["Queue", "UserId", "UserName", "Status"], cancellationToken: cancellationToken);
    }

    // ---- views ----

    public const int MaxUsersInView = 1000;

    public async Task<IReadOnlyList<JsonObject>> ListAsync(DirectoryId directoryId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var holds = new List<JsonObject>();
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(directoryId.Value, HoldKind), cancellationToken: cancellationToken))
            rows.Add(row);
        foreach (var row in rows.OrderByDescending(r => r.GetDateTimeOffset("TriggeredAt")))
            holds.Add(await ViewAsync(table, row, cancellationToken));
        return holds;
    }

    public async Task<JsonObject?> FindAsync(DirectoryId directoryId, string holdId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(TableKey.Row(HoldKind, holdId))) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(directoryId.Value, TableKey.Row(HoldKind, holdId), cancellationToken: cancellationToken);
        return row.HasValue ? await ViewAsync(table, row.Value!, cancellationToken) : null;
    }

    private async Task<JsonObject> ViewAsync(TableClient table, TableEntity hold, CancellationToken cancellationToken)
    {
        var holdId = TableKey.Unescape(hold.RowKey[(HoldKind.Length + 1)..]);
        var (tasks, deliveries) = (new Dictionary<string, int>(), new Dictionary<string, int>());
        var users = new Dictionary<string, string?>(StringComparer.Ordinal);
        await foreach (var row in ParkedRowsAsync(table, hold.PartitionKey, holdId, cancellationToken))
        {
            var counts = row.GetString("Queue") == DeprovisionWorker.QueueName ? tasks : deliveries;
            var itemStatus = row.GetString("Status") ?? Parked;
            counts[itemStatus] = counts.GetValueOrDefault(itemStatus) + 1;
            if (row.GetString("UserId") is { } userId && (users.Count < MaxUsersInView || users.ContainsKey(userId)))
                users[userId] = row.GetString("UserName") ?? users.GetValueOrDefault(userId);
        }
        // Tasks carry no userName (a webhook delivery's payload does): read it from the directory.
        foreach (var userId in users.Where(u => u.Value is null).Select(u => u.Key).ToList())
            users[userId] = (await directories.FindUserAsync(new DirectoryId(hold.PartitionKey), userId, cancellationToken))?.UserName;
        static JsonObject Counts(Dictionary<string, int> counts) => new()
        {
            [Parked] = counts.GetValueOrDefault(Parked),
            [Released] = counts.GetValueOrDefault(Released),
            [Cancelled] = counts.GetValueOrDefault(Cancelled),
        };
        var status = hold.GetString("Status");
        // A decision under way shows as such (releasing, cancelling) until it completes.
        if (status == Held && await ReadGuardAsync(table, hold.PartitionKey, cancellationToken) is { } guard && guard.HoldId == holdId)
            status = guard.Status ?? status;
        static string? Time(DateTimeOffset? at) => at?.ToString("O", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = holdId,
            ["directoryId"] = hold.PartitionKey,
            ["tenantId"] = hold.GetString("TenantId"),
            ["status"] = status,
            ["triggeredAt"] = Time(hold.GetDateTimeOffset("TriggeredAt")),
            ["windowStart"] = Time(hold.GetDateTimeOffset("WindowStart")),
            ["windowMinutes"] = (int)Window.TotalMinutes,
            ["deprovisionedUsers"] = hold.GetInt32("DeprovisionedUsers"),
            ["directoryUsers"] = hold.GetInt32("DirectoryUsers"),
            ["threshold"] = hold.GetDouble("Threshold"),
            ["minUsers"] = hold.GetInt32("MinUsers"),
            ["tasks"] = Counts(tasks),
            ["webhookDeliveries"] = Counts(deliveries),
            ["users"] = new JsonArray(users.OrderBy(u => u.Key, StringComparer.Ordinal)
                .Select(u => (JsonNode)new JsonObject { ["id"] = u.Key, ["userName"] = u.Value }).ToArray()),
            ["releasedAt"] = Time(hold.GetDateTimeOffset("ReleasedAt")),
            ["cancelledAt"] = Time(hold.GetDateTimeOffset("CancelledAt")),
        };
    }

    /// <summary>Deletes the directory's guard partition (its tenant was deleted).</summary>
    public async Task PurgeAsync(DirectoryId directoryId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>($"PartitionKey eq '{TableKey.Quote(directoryId.Value)}'", select: ["RowKey"],
                           cancellationToken: cancellationToken))
            keys.Add(row.RowKey);
        foreach (var chunk in keys.Chunk(100))
            await table.SubmitTransactionAsync(chunk.Select(k =>
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(directoryId.Value, k), ETag.All)), cancellationToken);
    }

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
