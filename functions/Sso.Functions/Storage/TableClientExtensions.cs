using Azure;
using Azure.Data.Tables;

namespace Sso.Functions.Storage;

/// <summary>The conditional writes every store makes, with the SDK's failures turned into outcomes.</summary>
public static class TableClientExtensions
{
    /// <summary>Replaces the row only if it still has <paramref name="ifMatch"/> (412 → Stale, 404 → NotFound).</summary>
    public static async Task<SaveOutcome> ReplaceIfMatchAsync(this TableClient table, TableEntity entity, ETag ifMatch,
        CancellationToken cancellationToken)
    {
        try
        {
            await table.UpdateEntityAsync(entity, ifMatch, TableUpdateMode.Replace, cancellationToken);
            return SaveOutcome.Saved;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return e.Status == 412 ? SaveOutcome.Stale : SaveOutcome.NotFound;
        }
    }

    /// <summary>Deletes the row only if it still has <paramref name="ifMatch"/> (412 → Stale, 404 → NotFound).</summary>
    public static async Task<SaveOutcome> DeleteIfMatchAsync(this TableClient table, string partitionKey, string rowKey, ETag ifMatch,
        CancellationToken cancellationToken)
    {
        try
        {
            // The SDK answers a delete of a row that is gone with a 404 response, not an exception.
            var deleted = await table.DeleteEntityAsync(partitionKey, rowKey, ifMatch, cancellationToken);
            return deleted.Status == 404 ? SaveOutcome.NotFound : SaveOutcome.Saved;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return e.Status == 412 ? SaveOutcome.Stale : SaveOutcome.NotFound;
        }
    }
}
