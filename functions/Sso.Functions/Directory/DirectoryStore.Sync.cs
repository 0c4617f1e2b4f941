using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// The rows of a pulled directory (<see cref="DirectorySyncState"/>) and of its sync runs: every
/// user and group a run listed is marked <c>seen|run|kind|id</c>, so the run's end knows who is
/// absent from a complete listing without listing again.
/// </summary>
public sealed partial class DirectoryStore
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
        var table = await TableAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(PulledIndexPartition, directory.Id.Value), TableUpdateMode.Replace, cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(directory.TenantId.Value, TableKey.Row(TenantDirectoryKind, directory.Id.Value))
        {
            ["DirectoryId"] = directory.Id.Value,
        }, TableUpdateMode.Replace, cancellationToken);
        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, directory.ToEntity()),
            new(TableTransactionActionType.Add, state.ToEntity()),
        ], cancellationToken);
    }

    public async Task<DirectorySyncState?> FindSyncStateAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, DirectorySyncState.RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? DirectorySyncState.FromEntity(row.Value!) : null;
    }

    /// <summary>Saves the sync row under its ETag, with the events the change causes in the same transaction.</summary>
    public Task<SaveOutcome> SaveSyncStateAsync(DirectorySyncState before, DirectorySyncState after, IReadOnlyList<EventRecord> events,
        CancellationToken cancellationToken) =>
        CommitAsync(after.DirectoryId, [new WriteUnit([new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag)], events.ToList())],
            cancellationToken);

    /// <summary>Every pulled directory's sync row: the index partition, then a point read each.</summary>
    public async IAsyncEnumerable<DirectorySyncState> QuerySyncStatesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
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
            if (await FindDirectoryAsync(new DirectoryId(id), cancellationToken) is null)
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

    /// <summary>
    /// Gives a deprovisioned (deleted) user back its place: the row un-deleted and its index rows
    /// added again, with its events. <see cref="SaveOutcome.AlreadyExists"/> when another user took
    /// its userName meanwhile.
    /// </summary>
    public async Task<SaveOutcome> RestoreUserAsync(DirectoryUser before, DirectoryUser after, IReadOnlyList<EventRecord> events,
        CancellationToken cancellationToken)
    {
        var unit = new WriteUnit([new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag), .. UserIndexAdds(after),
            .. SignInChanges(before, after)], events.ToList());
        return await CommitAsync(after.DirectoryId, [unit], cancellationToken);
    }

    private static string SeenPrefix(string runId, string kind) => $"{SeenKind}|{TableKey.Escape(runId)}|{kind}|";

    /// <summary>Marks what a run listed, 100 rows per transaction; marking twice is no change.</summary>
    public async Task MarkSeenAsync(DirectoryId id, string runId, string kind, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        foreach (var chunk in ids.Distinct().Chunk(100))
            await table.SubmitTransactionAsync(chunk.Select(seen => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                new TableEntity(id.Value, SeenPrefix(runId, kind) + TableKey.Escape(seen)) { ["Id"] = seen })), cancellationToken);
    }

    public async Task<HashSet<string>> ListSeenAsync(DirectoryId id, string runId, string kind, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var prefix = SeenPrefix(runId, kind);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(id.Value)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
                           select: ["Id"], cancellationToken: cancellationToken))
            seen.Add(row.GetString("Id"));
        return seen;
    }

    /// <summary>Deletes the marks of every run but <paramref name="keepRunId"/> (null: of every run).</summary>
    public async Task DeleteSeenAsync(DirectoryId id, string? keepRunId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, SeenKind), select: ["RowKey"], cancellationToken: cancellationToken))
            if (keepRunId is null || !row.RowKey.StartsWith($"{SeenKind}|{TableKey.Escape(keepRunId)}|", StringComparison.Ordinal))
                keys.Add(row.RowKey);
        foreach (var chunk in keys.Chunk(100))
        {
            try
            {
                await table.SubmitTransactionAsync(chunk.Select(k =>
                    new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(id.Value, k), ETag.All)), cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status == 404)
            {
                // Another delivery of the same end removed some first; the next sync removes the rest.
            }
        }
    }
}
