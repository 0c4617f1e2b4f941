using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>OAuth clients (table "clients", one partition per client). Secrets are stored as SHA-256 hashes.</summary>
public sealed class ClientStore(TableStorage storage)
{
    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync("clients", cancellationToken);

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
            return SaveOutcome.Saved;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return SaveOutcome.NotFound;
        }
    }
}
