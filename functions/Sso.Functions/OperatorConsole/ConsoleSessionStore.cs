using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.OperatorConsole;

/// <summary>Console sessions (table "consolesessions", PartitionKey = the hash of the session id, one row each).</summary>
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
}
