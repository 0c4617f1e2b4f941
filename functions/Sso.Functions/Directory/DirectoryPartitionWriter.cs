using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>The actions that must commit together, with the events they cause.</summary>
public sealed record WriteUnit(List<TableTransactionAction> Actions, List<EventRecord> Events)
{
    public WriteUnit(params TableTransactionAction[] actions) : this(actions.ToList(), []) { }
}

/// <summary>
/// The one table of the directory stores (<see cref="DirectoryRecordStore"/>, <see cref="DirectoryUserStore"/>,
/// <see cref="DirectoryGroupStore"/>, <see cref="DirectorySyncStore"/>), one partition per directory, and the
/// one way they change it: units written into the directory's partition with their outbox rows in
/// the same transaction, the events handed to the outbox publisher after the commit.
/// </summary>
public sealed class DirectoryPartitionWriter(TableStorage storage, OutboxPublisher publisher)
{
    public const string TableName = TableNames.Directory;

    /// <summary>The table, for the directory stores only: other folders go through a store.</summary>
    internal Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    internal static TableTransactionAction OutboxAdd(DirectoryId id, EventRecord record) =>
        new(TableTransactionActionType.Add, record.ToOutboxEntity(id.Value));

    /// <summary>Hands committed events to the outbox publisher (feed copy, enqueue, outbox delete: after the answer).</summary>
    internal void Publish(DirectoryId id, IReadOnlyList<EventRecord> committed) => publisher.Post(TableName, id.Value, committed);

    /// <summary>
    /// Commits units in order, packing whole units into transactions of at most 100 actions (the
    /// Table limit). The first transaction holds the row whose ETag guards the change, so a stale
    /// writer fails before anything is written; a later transaction failing leaves a prefix of
    /// complete units, each with its events, which a retry of the request completes.
    /// </summary>
    internal async Task<SaveOutcome> CommitAsync(DirectoryId id, IReadOnlyList<WriteUnit> units, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var batches = new List<(List<TableTransactionAction> Actions, List<EventRecord> Events)>();
        var current = (Actions: new List<TableTransactionAction>(), Events: new List<EventRecord>());
        foreach (var unit in units)
        {
            var size = unit.Actions.Count + unit.Events.Count;
            if (current.Actions.Count + size > 100 && current.Actions.Count > 0)
            {
                batches.Add(current);
                current = (new List<TableTransactionAction>(), new List<EventRecord>());
            }
            current.Actions.AddRange(unit.Actions);
            current.Actions.AddRange(unit.Events.Select(e => OutboxAdd(id, e)));
            current.Events.AddRange(unit.Events);
        }
        if (current.Actions.Count > 0) batches.Add(current);

        var committed = new List<EventRecord>();
        var outcome = SaveOutcome.Saved;
        foreach (var batch in batches)
        {
            try
            {
                await table.SubmitTransactionAsync(batch.Actions, cancellationToken);
                committed.AddRange(batch.Events);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412 or 404)
            {
                outcome = e.Status switch { 409 => SaveOutcome.AlreadyExists, 404 => SaveOutcome.NotFound, _ => SaveOutcome.Stale };
                break;
            }
        }
        // Committed: the answer is the success answer. The feed copies, the enqueue and the outbox
        // deletes happen after it, off the request path; the outbox rows are the guarantee.
        Publish(id, committed);
        return outcome;
    }

    /// <summary>One page of the rows of a kind in the directory's partition, and the cursor of the next page (null at the end).</summary>
    internal async Task<(IReadOnlyList<T> Rows, string? NextCursor)> PageOfKindAsync<T>(DirectoryId id, string kind, Func<TableEntity, T> read,
        string? cursor, int limit, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await foreach (var page in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, kind), maxPerPage: limit,
                           cancellationToken: cancellationToken).AsPages(cursor, limit))
            return (page.Values.Select(read).ToList(), page.ContinuationToken);
        return ([], null);
    }

    /// <summary>
    /// Deletes rows of the directory's partition by key, 100 per transaction. A transaction that
    /// fails with 404 (a concurrent deleter got there first) goes to <paramref name="onMissing"/>:
    /// the exception it returns is thrown; null goes on with the next transaction.
    /// </summary>
    internal async Task DeleteRowsAsync(DirectoryId id, IEnumerable<string> rowKeys, Func<TableTransactionFailedException, Exception?> onMissing,
        CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        foreach (var chunk in rowKeys.Chunk(100))
        {
            try
            {
                await table.SubmitTransactionAsync(chunk.Select(k =>
                    new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(id.Value, k), Azure.ETag.All)), cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status == 404)
            {
                if (onMissing(e) is { } failure) throw failure;
            }
        }
    }
}
