using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// A SAML connection's sign-in rows in the connection's 16 partitions of table "signins"
/// (<see cref="PartitionOf"/>: the connection id and one hex digit of a hash of the pending sign-in's
/// handle), so that everything one sign-in writes commits in one transaction (<see cref="CommitAsync"/>):
/// <list type="bullet">
/// <item><c>pending|&lt;handle&gt;</c>: the pending sign-in (the RelayState), removed under its ETag;</item>
/// <item><c>assertion|&lt;escaped id&gt;</c>: an assertion ID already used, inserted (kept until the assertion expires);</item>
/// <item><c>session|&lt;sid&gt;</c> and <c>samlname|…</c>: the session for Single Logout (<see cref="SignInSessionStore"/>);</item>
/// <item><c>code|sha256(code)</c>: the authorization code (the code names its connection, <see cref="AuthorizationCode.TryReadConnection"/>,
/// and is drawn so that its own hash picks the sign-in's partition: the token endpoint finds it with one point read);</item>
/// <item>the outbox row of its <c>sso.login</c> event.</item>
/// </list>
/// The transaction fails as a whole when the pending sign-in was already taken or the assertion ID
/// already recorded, so a code exists, and its event commits, only when every single-use write won.
/// An assertion ID is recorded in its sign-in's partition: a replayed response carries the same
/// InResponseTo, so it names the same pending sign-in and lands on the same row (and is refused
/// anyway once that sign-in is taken); an unsolicited response, which may carry no InResponseTo,
/// records its ID in the partition a hash of the ID picks, so its replays meet there too.
/// </summary>
public sealed class ConnectionSignInStore(TableStorage storage, OutboxPublisher publisher, TimeProvider clock) : ISignInRowSweep
{
    private readonly PendingSignInsStartedHere _startedHere = new(clock);

    public const string TableName = TableNames.SignIns;
    public const string PendingKind = "pending";
    public const string AssertionKind = "assertion";

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    /// <summary>
    /// One of a connection's 16 partitions, picked by the first hex digit of the SHA-256 of
    /// <paramref name="key"/> (a pending sign-in's handle, a code, or an unsolicited assertion's ID).
    /// Spreading a connection's sign-ins keeps each partition small and busy connections within the
    /// per-partition limit (about 2,000 entities/s each).
    /// </summary>
    public static string PartitionOf(ConnectionId connectionId, string key) =>
        connectionId.Value + "|" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[0];

    /// <summary>A filter for all of a connection's partitions.</summary>
    public static string PartitionsFilter(ConnectionId connectionId) =>
        $"PartitionKey ge '{TableKey.Quote(connectionId.Value)}|' and PartitionKey lt '{TableKey.Quote(connectionId.Value)}}}'";

    public async Task CreatePendingAsync(PendingSignIn pending, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var added = await table.AddEntityAsync(pending.ToEntity(PartitionOf(pending.ConnectionId, pending.Handle), PendingRowKey(pending.Handle)), cancellationToken);
        _startedHere.Add(pending with { ETag = added.Headers.ETag ?? default, InConnectionPartition = true });
    }

    /// <summary>
    /// The pending sign-in a handle names, as stored (not removed); null when it is not here. One
    /// this instance started is taken from memory, with the ETag its write returned: the ACS's
    /// transaction removes the row under that ETag, so a post that another request (on any
    /// instance) completed first still loses, and a row removed meanwhile fails the transaction.
    /// </summary>
    public async Task<PendingSignIn?> FindPendingAsync(string handle, CancellationToken cancellationToken)
    {
        if (!PendingSignIn.TryReadConnection(handle, out var connectionId)) return null;
        if (_startedHere.TryTake(handle) is { } startedHere) return startedHere;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(PartitionOf(connectionId, handle), PendingRowKey(handle), cancellationToken: cancellationToken);
        return row.HasValue ? PendingSignIn.FromEntity(row.Value!, handle) : null;
    }

    /// <summary>Removes a pending sign-in under the ETag it was read with: of two requests that read it, one wins (true).</summary>
    public async Task<bool> RemovePendingAsync(PendingSignIn pending, CancellationToken cancellationToken)
    {
        _startedHere.TryTake(pending.Handle);
        var table = await TableAsync(cancellationToken);
        return await table.DeleteIfMatchAsync(PartitionOf(pending.ConnectionId, pending.Handle), PendingRowKey(pending.Handle), pending.ETag, cancellationToken)
            == SaveOutcome.Saved;
    }

    /// <summary>
    /// One sign-in's writes in one transaction, in this order: remove the pending sign-in (if it is
    /// stored here), record the assertion ID, then (for a success) the session rows, the code and the
    /// <c>sso.login</c> outbox row. The event is handed to the publisher once committed.
    /// </summary>
    public async Task<SignInCommitOutcome> CommitAsync(SignInCommit commit, CancellationToken cancellationToken)
    {
        var partition = PartitionOf(commit);
        var actions = new List<TableTransactionAction>();
        if (commit.Pending is { } pending)
            actions.Add(new(TableTransactionActionType.Delete, new TableEntity(partition, PendingRowKey(pending.Handle)) { ETag = pending.ETag },
                pending.ETag));
        var assertionRow = AssertionRowKey(commit.AssertionId);
        actions.Add(new(TableTransactionActionType.Add, new TableEntity(partition, assertionRow)
        {
            ["KeepUntil"] = commit.KeepAssertionUntil,
            // The cleanup sweep removes every kind of row here by ExpiresAt.
            ["ExpiresAt"] = commit.KeepAssertionUntil,
            ["Owner"] = commit.Owner,
        }));
        string? codeValue = null;
        if (commit.Success is { } success)
        {
            if (success.Session is { } session)
                actions.AddRange(SignInSessionStore.ToEntities(partition, session).Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)));
            // Drawn until its hash picks this partition (16 draws on average): the code alone then names its row.
            do codeValue = AuthorizationCode.NewValue(commit.ConnectionId);
            while (PartitionOf(commit.ConnectionId, codeValue) != partition);
            actions.Add(new(TableTransactionActionType.Add, success.Code.ToEntity(partition, AuthorizationCode.HashOf(codeValue))));
            actions.Add(new(TableTransactionActionType.Add, success.Login.ToOutboxEntity(partition)));
        }
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
        {
            return await WhichLostAsync(table, commit, e.FailedTransactionActionIndex, cancellationToken);
        }
        if (commit.Success is { } committed) publisher.Post(TableName, partition, [committed.Login]);
        return new SignInCommitOutcome.Committed(codeValue);
    }

    /// <summary>
    /// Which single-use write lost. The service names the failed action; where it does not, the
    /// pending sign-in is read: gone (or changed) means another request took it first. An assertion
    /// recorded by the same handle (a browser's double submit) counts as the pending sign-in taken.
    /// </summary>
    private static async Task<SignInCommitOutcome> WhichLostAsync(TableClient table, SignInCommit commit, int? failedIndex,
        CancellationToken cancellationToken)
    {
        var partition = PartitionOf(commit);
        if (commit.Pending is { } pending)
        {
            if (failedIndex == 0) return new SignInCommitOutcome.PendingTaken();
            if (failedIndex is null)
            {
                var row = await table.GetEntityIfExistsAsync<TableEntity>(partition, PendingRowKey(pending.Handle), select: ["PartitionKey"],
                    cancellationToken: cancellationToken);
                if (!row.HasValue || row.Value!.ETag != pending.ETag) return new SignInCommitOutcome.PendingTaken();
            }
            if (commit.Owner is { } owner)
            {
                var recorded = await table.GetEntityIfExistsAsync<TableEntity>(partition, AssertionRowKey(commit.AssertionId), select: ["Owner"],
                    cancellationToken: cancellationToken);
                if (recorded.HasValue && recorded.Value!.GetString("Owner") == owner) return new SignInCommitOutcome.PendingTaken();
            }
        }
        return new SignInCommitOutcome.AssertionReplayed();
    }

    /// <summary>Removes rows that can no longer be used (pending sign-ins, codes and tombstones, sessions, assertion IDs) by their ExpiresAt.</summary>
    public async Task<int> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var removed = 0;
        await foreach (var row in table.QueryAsync<TableEntity>($"ExpiresAt lt datetime'{now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'",
                           select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (await table.DeleteIfMatchAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken) == SaveOutcome.Saved) removed++;
        }
        return removed;
    }

    private static string PartitionOf(SignInCommit commit) => commit.Pending is { } pending
        ? PartitionOf(commit.ConnectionId, pending.Handle)
        : PartitionOf(commit.ConnectionId, AssertionKind + "|" + commit.AssertionId);

    private static string PendingRowKey(string handle) => PendingKind + "|" + handle;

    public static string AssertionRowKey(string assertionId)
    {
        var rowKey = TableKey.Row(AssertionKind, assertionId);
        return TableKey.FitsInKey(rowKey)
            ? rowKey
            : AssertionKind + "|sha256|" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(assertionId)));
    }
}

/// <summary>
/// What one SAML sign-in writes: <see cref="Pending"/> when its pending sign-in is stored in the
/// connection's partition (null for an unsolicited response, or one stored before this layout),
/// the assertion ID, and for an admitted sign-in the code, its session and its event.
/// </summary>
public sealed record SignInCommit(ConnectionId ConnectionId, PendingSignIn? Pending, string AssertionId, DateTimeOffset KeepAssertionUntil,
    string? Owner, IssuedSignIn? Success);

public abstract record SignInCommitOutcome
{
    private SignInCommitOutcome() { }

    /// <summary>Everything committed; <see cref="Code"/> is the code's value for an admitted sign-in.</summary>
    public sealed record Committed(string? Code) : SignInCommitOutcome;

    /// <summary>Another request took the pending sign-in first (or completed this very sign-in): nothing was written.</summary>
    public sealed record PendingTaken : SignInCommitOutcome;

    /// <summary>The assertion ID was already used: nothing was written.</summary>
    public sealed record AssertionReplayed : SignInCommitOutcome;
}

/// <summary>
/// The pending sign-ins this instance wrote, until they are read once or expire: the IdP usually
/// posts back to the instance that sent the browser to it, and then the ACS needs no read.
/// Bounded: past <see cref="MaxEntries"/> the expired ones go, and a sign-in that still finds no
/// room is read from its row like one another instance started.
/// </summary>
internal sealed class PendingSignInsStartedHere(TimeProvider clock)
{
    public const int MaxEntries = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PendingSignIn> _entries = new(StringComparer.Ordinal);

    public void Add(PendingSignIn pending)
    {
        if (pending.ETag == default) return;
        if (_entries.Count >= MaxEntries)
        {
            var now = clock.GetUtcNow();
            foreach (var (handle, entry) in _entries)
                if (now >= entry.ExpiresAt) _entries.TryRemove(handle, out _);
            if (_entries.Count >= MaxEntries) return;
        }
        _entries[pending.Handle] = pending;
    }

    public PendingSignIn? TryTake(string handle) => _entries.TryRemove(handle, out var pending) ? pending : null;
}
