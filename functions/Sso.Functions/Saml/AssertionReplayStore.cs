using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Storage;

namespace Sso.Functions.Saml;

/// <summary>
/// Assertion IDs already used to sign in (table "samlassertions", PartitionKey = connection id,
/// RowKey = the escaped assertion ID). Profiles §4.1.4.5: an assertion is used once. Recording
/// is an insert, so of two posts of one assertion exactly one succeeds; rows are kept until the
/// assertion would be refused as expired anyway.
/// </summary>
public sealed class AssertionReplayStore(TableStorage storage)
{
    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync("samlassertions", cancellationToken);

    /// <summary>True when the assertion ID was not seen before and is now recorded; false for a replay.</summary>
    public async Task<bool> TryRecordAsync(ConnectionId connectionId, string assertionId, DateTimeOffset keepUntil,
        CancellationToken cancellationToken)
    {
        var rowKey = TableKey.Escape(assertionId);
        if (!TableKey.FitsInKey(rowKey)) rowKey = "sha256|" + Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(assertionId)));
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(new TableEntity(connectionId.Value, rowKey) { ["KeepUntil"] = keepUntil }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Removes entries whose assertions have expired; returns how many.</summary>
    public async Task<int> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var removed = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"KeepUntil lt datetime'{now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'", cancellationToken: cancellationToken))
        {
            try
            {
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
                removed++;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        }
        return removed;
    }
}
