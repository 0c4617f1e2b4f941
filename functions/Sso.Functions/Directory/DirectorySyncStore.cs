using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// The rows of a pulled directory: the index of pulled directories, its sync row
/// (<see cref="DirectorySyncState"/>), its pending authorizations and the marks of its sync runs:
/// the ids of every page of users and groups a run listed are kept in a few <c>seen|run|kind|page|n</c>
/// rows, so the run's end knows who is absent from a complete listing without listing again.
/// </summary>
public sealed class DirectorySyncStore(DirectoryPartitionWriter writer, DirectoryRecordStore directories)
{
    public const string SeenKind = "seen";

    /// <summary>
    /// The one partition that lists the pulled directories (row key: the directory id, nothing
    /// else), so the sync timer reads it instead of scanning the table. A row whose directory is
    /// gone is removed by <see cref="QuerySyncStatesAsync"/>.
    /// </summary>
    public const string PulledIndexPartition = "~pulledDirectories";

    /// <summary>
    /// A directory without a SCIM token: the tenant's and the pulled directories' index rows, then
    /// the directory and its sync row together.
    /// </summary>
    public async Task CreatePulledDirectoryAsync(DirectoryRecord directory, DirectorySyncState state, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(PulledIndexPartition, directory.Id.Value), TableUpdateMode.Replace, cancellationToken);
        await table.UpsertEntityAsync(DirectoryRecordStore.TenantIndexEntity(directory), TableUpdateMode.Replace, cancellationToken);
        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, directory.ToEntity()),
            new(TableTransactionActionType.Add, state.ToEntity()),
        ], cancellationToken);
    }

    public async Task<DirectorySyncState?> FindSyncStateAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, DirectorySyncState.RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? DirectorySyncState.FromEntity(row.Value!) : null;
    }

    /// <summary>Saves the sync row under its ETag, with the events the change causes in the same transaction.</summary>
    public Task<SaveOutcome> SaveSyncStateAsync(DirectorySyncState before, DirectorySyncState after, IReadOnlyList<EventRecord> events,
        CancellationToken cancellationToken) =>
        writer.CommitAsync(after.DirectoryId,
            [new WriteUnit([new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag)], events.ToList())], cancellationToken);

    /// <summary>Every pulled directory's sync row: the index partition, then a point read each.</summary>
    public async IAsyncEnumerable<DirectorySyncState> QuerySyncStatesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var ids = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>($"PartitionKey eq '{PulledIndexPartition}'", select: ["RowKey"],
                           cancellationToken: cancellationToken))
            ids.Add(row.RowKey);
        foreach (var id in ids)
        {
            if (await FindSyncStateAsync(new DirectoryId(id), cancellationToken) is { } state)
            {
                yield return state;
                continue;
            }
            // Created just now (the index row comes first) or purged: only a purged one stays gone.
            if (await directories.FindDirectoryAsync(new DirectoryId(id), cancellationToken) is null)
            {
                try
                {
                    await table.DeleteEntityAsync(PulledIndexPartition, id, ETag.All, cancellationToken);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                }
            }
        }
    }

    /// <summary>True when the pulled directories' index still lists the directory.</summary>
    public async Task<bool> IsIndexedAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        return (await table.GetEntityIfExistsAsync<TableEntity>(PulledIndexPartition, id.Value, select: ["RowKey"], cancellationToken: cancellationToken))
            .HasValue;
    }

    // ---- pending authorizations ----

    /// <summary>An authorization started and not yet completed: the PKCE verifier and until when it may complete.</summary>
    public sealed record PendingAuthorization(string Verifier, DateTimeOffset? ExpiresAt);

    /// <summary>One row per pending authorization, <c>expiresAt|directoryId|rowKey</c>: the sweep reads the expired ones as one range.</summary>
    public const string PendingAuthorizationExpiryPartition = "~googleAuthExpiry";

    private static string ExpiryPrefix(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);

    public async Task AddPendingAuthorizationAsync(DirectoryId id, string rowKey, PendingAuthorization pending, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        if (pending.ExpiresAt is { } expiresAt)
        {
            // The index row first: a crash in between leaves only an index row, which the sweep removes.
            await table.AddEntityAsync(new TableEntity(PendingAuthorizationExpiryPartition, $"{ExpiryPrefix(expiresAt)}|{id.Value}|{rowKey}")
            {
                ["DirectoryId"] = id.Value,
                ["PendingRowKey"] = rowKey,
            }, cancellationToken);
        }
        await table.AddEntityAsync(new TableEntity(id.Value, rowKey)
        {
            ["Verifier"] = pending.Verifier,
            ["ExpiresAt"] = pending.ExpiresAt,
        }, cancellationToken);
    }

    /// <summary>
    /// Deletes the pending authorizations that expired before <paramref name="now"/> unredeemed (the
    /// admin closed the tab), found through their expiry index rows; returns how many were still there.
    /// </summary>
    public async Task<int> SweepExpiredPendingAuthorizationsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var expired = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{PendingAuthorizationExpiryPartition}' and RowKey lt '{ExpiryPrefix(now)}'", cancellationToken: cancellationToken))
            expired.Add(row);
        var removed = 0;
        foreach (var row in expired)
        {
            if (row.GetString("DirectoryId") is { } directoryId && row.GetString("PendingRowKey") is { } pendingKey
                && await DeleteIfPresentAsync(table, directoryId, pendingKey, cancellationToken))
                removed++;
            await DeleteIfPresentAsync(table, PendingAuthorizationExpiryPartition, row.RowKey, cancellationToken);
        }
        return removed;
    }

    private static async Task<bool> DeleteIfPresentAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(partitionKey, rowKey, ETag.All, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;   // redeemed, purged with its directory, or removed by another sweep
        }
    }

    /// <summary>The pending authorization, consumed: the row is deleted under its ETag, so a second use finds nothing.</summary>
    public async Task<PendingAuthorization?> TakePendingAuthorizationAsync(DirectoryId id, string rowKey, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, rowKey, cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        try
        {
            await table.DeleteEntityAsync(id.Value, rowKey, row.Value!.ETag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
        return new PendingAuthorization(row.Value.GetString("Verifier"), row.Value.GetDateTimeOffset("ExpiresAt"));
    }

    // ---- the marks of a run ----

    private static string SeenPrefix(string runId, string kind) => $"{SeenKind}|{TableKey.Escape(runId)}|{kind}|";

    /// <summary>The most characters of ids one mark row holds: a Table string property holds at most 32K.</summary>
    private const int MarkCharacters = 30_000;

    /// <summary>
    /// Marks what a page of a run listed: the page's ids in as few rows as they fit (a page of 500
    /// users is one row), not a row per id. Every row the directory's partition holds makes each
    /// write and point read in it slower on Azurite (it compares the partition's rows one by one),
    /// and a row per id doubled the rows of a directory for the whole run. <paramref name="page"/>
    /// names the page within the run: a page delivered again replaces its own rows.
    /// </summary>
    public async Task MarkSeenAsync(DirectoryId id, string runId, string kind, string page, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var chunks = new List<JsonArray>();
        var size = 0;
        foreach (var seen in ids.Distinct(StringComparer.Ordinal))
        {
            var item = JsonValue.Create(seen);
            var length = item.ToJsonString().Length + 1;   // as written, with its comma
            if (chunks.Count == 0 || size + length > MarkCharacters)
            {
                chunks.Add([]);
                size = 2;
            }
            chunks[^1].Add((JsonNode)item);
            size += length;
        }
        var table = await writer.TableAsync(cancellationToken);
        var prefix = SeenPrefix(runId, kind) + TableKey.Escape(page) + "|";
        foreach (var batch in chunks.Select((ids, n) => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                     new TableEntity(id.Value, prefix + n.ToString("D4", CultureInfo.InvariantCulture)) { ["Ids"] = ids.ToJsonString() })).Chunk(100))
            await table.SubmitTransactionAsync(batch, cancellationToken);
    }

    public async Task<HashSet<string>> ListSeenAsync(DirectoryId id, string runId, string kind, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var prefix = SeenPrefix(runId, kind);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(id.Value)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
                           select: ["Id", "Ids"], cancellationToken: cancellationToken))
        {
            // A mark of one id: written by the version before marks were kept per page, during a run it began.
            if (row.GetString("Id") is { } one) seen.Add(one);
            if (row.GetString("Ids") is { } many && JsonNode.Parse(many) is JsonArray list)
                foreach (var item in list)
                    if (item?.GetValue<string>() is { } listed) seen.Add(listed);
        }
        return seen;
    }

    /// <summary>Deletes the marks of every run but <paramref name="keepRunId"/> (null: of every run).</summary>
    public async Task DeleteSeenAsync(DirectoryId id, string? keepRunId, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, SeenKind), select: ["RowKey"], cancellationToken: cancellationToken))
            if (keepRunId is null || !row.RowKey.StartsWith($"{SeenKind}|{TableKey.Escape(keepRunId)}|", StringComparison.Ordinal))
                keys.Add(row.RowKey);
        // A 404: another delivery of the same end removed some first; the next sync removes the rest.
        await writer.DeleteRowsAsync(id, keys, _ => null, cancellationToken);
    }
}
