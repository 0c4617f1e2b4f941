using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Setup;

/// <summary>
/// Setup links (table "setuplinks", PartitionKey = tenant id): the link row (<c>link|stl_…</c>),
/// the row that finds it by its token's hash (<c>linkhash|…</c>, written in the same transaction),
/// and the tenant's internal OAuth client for Test sign-in (<c>portalclient</c>).
/// </summary>
public sealed class SetupLinkStore(TableStorage storage)
{
    public const string PortalClientRow = "portalclient";

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.SetupLinks, cancellationToken);

    public async Task CreateAsync(SetupLink link, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, link.ToEntity()),
            new(TableTransactionActionType.Add, link.ToHashEntity()),
        ], cancellationToken);
    }

    public async Task<SetupLink?> FindAsync(TenantId tenantId, string id, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(tenantId.Value, TableKey.Row(SetupLink.Kind, id), cancellationToken: cancellationToken);
        return row.HasValue ? SetupLink.FromEntity(row.Value!) : null;
    }

    /// <summary>The link whose token this is (revoked and expired ones included), or null.</summary>
    public async Task<SetupLink?> FindByTokenAsync(string token, CancellationToken cancellationToken)
    {
        if (!SetupToken.TryReadTenant(token, out var tenantId)) return null;
        var hash = SetupToken.HashOf(token);
        var table = await TableAsync(cancellationToken);
        var index = await table.GetEntityIfExistsAsync<TableEntity>(tenantId.Value,
            TableKey.Row(SetupLink.HashKind, Convert.ToHexStringLower(hash)), cancellationToken: cancellationToken);
        if (!index.HasValue) return null;
        var link = await FindAsync(tenantId, index.Value!.GetString("LinkId"), cancellationToken);
        return link is not null && CryptographicOperations.FixedTimeEquals(hash, link.TokenHash) ? link : null;
    }

    public async Task<IReadOnlyList<SetupLink>> ListAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var links = new List<SetupLink>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(tenantId.Value, SetupLink.Kind), cancellationToken: cancellationToken))
            links.Add(SetupLink.FromEntity(row));
        return links.OrderBy(l => l.CreatedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList();
    }

    public async Task<SaveOutcome> ReplaceAsync(SetupLink before, SetupLink after, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        return await table.ReplaceIfMatchAsync(after.ToEntity(), before.ETag, cancellationToken);
    }

    /// <summary>
    /// Applies <paramref name="change"/> under the row's ETag, re-reading and re-applying when
    /// another request won the race; null when the link is gone or kept changing.
    /// </summary>
    public async Task<SetupLink?> UpdateAsync(SetupLink before, Func<SetupLink, SetupLink> change, CancellationToken cancellationToken)
    {
        var current = before;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var after = change(current);
            if (await ReplaceAsync(current, after, cancellationToken) == SaveOutcome.Saved) return after;
            if (await FindAsync(before.TenantId, before.Id, cancellationToken) is not { } reread) return null;
            current = reread;
        }
        return null;
    }

    public async Task<ClientId?> FindPortalClientAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(tenantId.Value, PortalClientRow, cancellationToken: cancellationToken);
        return row.HasValue ? new ClientId(row.Value!.GetString("ClientId")) : null;
    }

    /// <summary>Records the tenant's portal client; false when another request recorded one first.</summary>
    public async Task<bool> TryAddPortalClientAsync(TenantId tenantId, ClientId clientId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(new TableEntity(tenantId.Value, PortalClientRow) { ["ClientId"] = clientId.Value }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }
}
