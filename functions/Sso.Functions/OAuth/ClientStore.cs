using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>OAuth clients (table "clients", one partition per client). Secrets are stored as SHA-256 hashes.</summary>
public sealed class ClientStore(TableStorage storage, TimeProvider clock)
{
    /// <summary>How long an instance trusts a client row it read at authorize and the token endpoint; a deletion here shows at once.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly InstanceCache<ClientId, OAuthClient> _cache = new(clock, CacheFor);

    /// <summary><see cref="FindAsync"/> for the sign-in path, kept for <see cref="CacheFor"/>.</summary>
    public Task<OAuthClient?> FindCachedAsync(ClientId id, CancellationToken cancellationToken) =>
        _cache.GetOrLoadAsync(id, token => FindAsync(id, token), cancellationToken);

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.Clients, cancellationToken);

    public async Task<OAuthClient?> FindAsync(ClientId id, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, OAuthClient.RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? OAuthClient.FromEntity(row.Value!) : null;
    }

    public async Task CreateAsync(OAuthClient client, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.AddEntityAsync(client.ToEntity(), cancellationToken);
    }

    public async Task<SaveOutcome> DeleteAsync(ClientId id, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.DeleteEntityAsync(id.Value, OAuthClient.RowKey, ETag.All, cancellationToken);
            _cache.Invalidate(id);
            return SaveOutcome.Saved;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return SaveOutcome.NotFound;
        }
    }
}
