using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Connections;

/// <summary>
/// IdP connections (table "connections", PartitionKey = tenant id, RowKey <c>connection|con_…</c>)
/// and the index that finds a connection's tenant from its id alone (PartitionKey
/// "connectionindex", RowKey = connection id), which the ACS URL and
/// <c>/oauth/authorize?connection=</c> need: they carry only the connection id.
/// </summary>
public sealed class ConnectionStore(TableStorage storage, TimeProvider clock, Outbox.OutboxPublisher publisher)
{
    public const string IndexPartition = "connectionindex";
    public const int MaxConnectionsPerTenant = 50;

    public const string TableName = TableNames.Connections;

    /// <summary>
    /// How long an instance signs in through a connection it read without reading it again: a
    /// connection deleted or changed on another instance is refused (or changed) there after at
    /// most this long; on the instance that changed it, at once (DESIGN §4: within 10 s).
    /// </summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly InstanceCache<ConnectionId, Connection> _cache = new(clock, CacheFor);
    private readonly InstanceCache<TenantId, IReadOnlyList<Connection>> _tenantCache = new(clock, CacheFor);

    /// <summary><see cref="ListAsync"/> for the sign-in path (which connections a tenant has), kept for <see cref="CacheFor"/>.</summary>
    public Task<IReadOnlyList<Connection>?> ListCachedAsync(TenantId tenantId, CancellationToken cancellationToken) =>
        _tenantCache.GetOrLoadAsync(tenantId, async token => (IReadOnlyList<Connection>?)await ListAsync(tenantId, token), cancellationToken);

    private void Invalidate(Connection connection)
    {
        _cache.Invalidate(connection.Id);
        _tenantCache.Invalidate(connection.TenantId);
    }

    /// <summary>
    /// <see cref="FindByIdAsync"/> for the sign-in path (authorize, ACS, metadata, callback): kept for
    /// <see cref="CacheFor"/>. Never for a read-modify-write: its ETag may be stale.
    /// </summary>
    public Task<Connection?> FindCachedByIdAsync(ConnectionId id, CancellationToken cancellationToken) =>
        _cache.GetOrLoadAsync(id, token => FindByIdAsync(id, token), cancellationToken);

    /// <summary><see cref="FindAsync"/> for the sign-in path, kept for <see cref="CacheFor"/>.</summary>
    public async Task<Connection?> FindCachedAsync(TenantId tenantId, ConnectionId id, CancellationToken cancellationToken) =>
        _cache.TryGet(id, out var cached)
            ? cached.TenantId == tenantId ? cached : null
            : await _cache.GetOrLoadAsync(id, token => FindAsync(tenantId, id, token), cancellationToken);

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    public async Task<Connection?> FindAsync(TenantId tenantId, ConnectionId id, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(tenantId.Value, TableKey.Row(Connection.Kind, id.Value),
            cancellationToken: cancellationToken);
        return row.HasValue ? Connection.FromEntity(row.Value!) : null;
    }

    /// <summary>
    /// The connection with this id, whichever tenant holds it. Only for URLs that carry the
    /// connection id alone; the tenant comes from the index, then the row is read under it.
    /// </summary>
    public async Task<Connection?> FindByIdAsync(ConnectionId id, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var index = await table.GetEntityIfExistsAsync<TableEntity>(IndexPartition, id.Value, cancellationToken: cancellationToken);
        if (!index.HasValue) return null;
        return await FindAsync(new TenantId(index.Value!.GetString("TenantId")), id, cancellationToken);
    }

    /// <summary>A tenant's connections, oldest first.</summary>
    public async Task<IReadOnlyList<Connection>> ListAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var connections = new List<Connection>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(tenantId.Value, Connection.Kind),
                           cancellationToken: cancellationToken))
            connections.Add(Connection.FromEntity(row));
        return connections.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id.Value, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every connection of every tenant (a scan, for daily timers).</summary>
    public async IAsyncEnumerable<Connection> ListAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"RowKey ge '{Connection.Kind}|' and RowKey lt '{Connection.Kind}}}'", cancellationToken: cancellationToken))
            yield return Connection.FromEntity(row);
    }

    public const string CertificateNoticeKind = "certnotice";

    /// <summary>
    /// Commits, in the connection's partition and one transaction, the mark that a certificate's
    /// expiry was announced and the outbox row of that announcement. <see cref="SaveOutcome.AlreadyExists"/>:
    /// it was announced before, and nothing is written.
    /// </summary>
    public async Task<SaveOutcome> RecordCertificateNoticeAsync(Connection connection, string thumbprint, Outbox.EventRecord notice,
        CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var mark = new TableEntity(connection.TenantId.Value, TableKey.Row(CertificateNoticeKind, connection.Id.Value + "." + thumbprint))
        {
            ["ConnectionId"] = connection.Id.Value,
            ["Thumbprint"] = thumbprint,
            ["EventId"] = notice.Id,
        };
        try
        {
            await table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, mark),
                new TableTransactionAction(TableTransactionActionType.Add, notice.ToOutboxEntity(connection.TenantId.Value)),
            ], cancellationToken);
            return SaveOutcome.Saved;
        }
        catch (TableTransactionFailedException e) when (e.Status == 409)
        {
            return SaveOutcome.AlreadyExists;
        }
    }

    /// <summary>Creates the connection; its row and the outbox rows of <paramref name="events"/> commit together.</summary>
    public async Task<SaveOutcome> CreateAsync(Connection connection, CancellationToken cancellationToken,
        IReadOnlyList<Outbox.EventRecord>? events = null)
    {
        // Order: the index row first, then the connection row. A crash in between leaves an
        // index row without a connection, which FindByIdAsync reads as "no such connection".
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(new TableEntity(IndexPartition, connection.Id.Value)
            {
                ["TenantId"] = connection.TenantId.Value,
            }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return SaveOutcome.AlreadyExists;
        }
        try
        {
            await table.SubmitTransactionAsync(
                [new(TableTransactionActionType.Add, connection.ToEntity()), .. OutboxActions(connection, events)], cancellationToken);
        }
        catch (TableTransactionFailedException e) when (e.Status == 409)
        {
            return SaveOutcome.AlreadyExists;
        }
        Invalidate(connection);
        Publish(connection, events);
        return SaveOutcome.Saved;
    }

    private static IEnumerable<TableTransactionAction> OutboxActions(Connection connection, IReadOnlyList<Outbox.EventRecord>? events) =>
        (events ?? []).Select(e => new TableTransactionAction(TableTransactionActionType.Add, e.ToOutboxEntity(connection.TenantId.Value)));

    private void Publish(Connection connection, IReadOnlyList<Outbox.EventRecord>? events)
    {
        if (events is { Count: > 0 }) publisher.Post(TableName, connection.TenantId.Value, events);
    }

    /// <summary>Replaces the connection under its ETag; the outbox rows of <paramref name="events"/> commit with it.</summary>
    public async Task<SaveOutcome> ReplaceAsync(Connection before, Connection after, CancellationToken cancellationToken,
        IReadOnlyList<Outbox.EventRecord>? events = null)
    {
        var table = await TableAsync(cancellationToken);
        SaveOutcome outcome;
        try
        {
            await table.SubmitTransactionAsync(
                [new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag), .. OutboxActions(after, events)], cancellationToken);
            outcome = SaveOutcome.Saved;
        }
        catch (TableTransactionFailedException e) when (e.Status is 412 or 404)
        {
            outcome = e.Status == 412 ? SaveOutcome.Stale : SaveOutcome.NotFound;
        }
        Invalidate(after);
        if (outcome == SaveOutcome.Saved) Publish(after, events);
        return outcome;
    }

    public async Task<SaveOutcome> DeleteAsync(Connection connection, CancellationToken cancellationToken,
        IReadOnlyList<Outbox.EventRecord>? events = null)
    {
        // Order: the connection row (with its event's outbox row) first — from then on nothing
        // signs in through it — then the index row; a crash in between leaves an index row that
        // points at nothing.
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.SubmitTransactionAsync(
                [new(TableTransactionActionType.Delete, new TableEntity(connection.TenantId.Value, connection.RowKey), connection.ETag),
                 .. OutboxActions(connection, events)], cancellationToken);
        }
        catch (TableTransactionFailedException e) when (e.Status is 412 or 404)
        {
            Invalidate(connection);
            return e.Status == 412 ? SaveOutcome.Stale : SaveOutcome.NotFound;
        }
        Invalidate(connection);
        Publish(connection, events);
        try
        {
            await table.DeleteEntityAsync(IndexPartition, connection.Id.Value, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
        // The certificate-expiry marks go last; one left by a crash only marks a certificate of a deleted connection.
        var marks = TableKey.Row(CertificateNoticeKind, connection.Id.Value + ".");
        await foreach (var mark in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(connection.TenantId.Value)}' and RowKey ge '{TableKey.Quote(marks)}' and RowKey lt '{TableKey.Quote(marks)}~'",
                           select: ["RowKey"], cancellationToken: cancellationToken))
        {
            try
            {
                await table.DeleteEntityAsync(connection.TenantId.Value, mark.RowKey, ETag.All, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
            }
        }
        return SaveOutcome.Saved;
    }
}
