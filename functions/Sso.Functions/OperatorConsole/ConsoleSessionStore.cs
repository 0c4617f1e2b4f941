using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// Console sessions (table "consolesessions", PartitionKey = the hash of the session id, one row each)
/// and OpenID Connect sign-ins under way (PartitionKey = the hash of their state, row <c>oidc</c>).
/// </summary>
public sealed class ConsoleSessionStore(TableStorage storage)
{
    private const string Row = "session";

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.ConsoleSessions, cancellationToken);

    public async Task CreateAsync(ConsoleSession session, CancellationToken cancellationToken) =>
        await (await TableAsync(cancellationToken)).AddEntityAsync(session.ToEntity(), cancellationToken);

    public async Task<ConsoleSession?> FindAsync(string idHash, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(idHash, Row, cancellationToken: cancellationToken);
        return row.HasValue ? ConsoleSession.FromEntity(row.Value!) : null;
    }

    /// <summary>Records activity; a lost ETag race means another request just did the same.</summary>
    public async Task TouchAsync(ConsoleSession session, DateTimeOffset now, CancellationToken cancellationToken) =>
        await (await TableAsync(cancellationToken)).ReplaceIfMatchAsync((session with { LastSeenAt = now }).ToEntity(), session.ETag, cancellationToken);

    public async Task DeleteAsync(string idHash, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.DeleteEntityAsync(idHash, Row, cancellationToken: cancellationToken);
    }

    public async Task CreatePendingAsync(ConsolePendingSignIn pending, CancellationToken cancellationToken) =>
        await (await TableAsync(cancellationToken)).AddEntityAsync(pending.ToEntity(), cancellationToken);

    /// <summary>Reads and deletes the pending sign-in of a state: a state is good for one callback.</summary>
    public async Task<ConsolePendingSignIn?> TakePendingAsync(string stateHash, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(stateHash, ConsolePendingSignIn.Row, cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        // Only the request whose delete wins may use it (a replayed callback loses).
        return await table.DeleteIfMatchAsync(stateHash, ConsolePendingSignIn.Row, row.Value!.ETag, cancellationToken) == SaveOutcome.Saved
            ? ConsolePendingSignIn.FromEntity(row.Value!)
            : null;
    }
}
