using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;

namespace Sso.Functions.Saml;

/// <summary>
/// IDs of SAML messages already acted on (table "samlassertions", PartitionKey = connection id,
/// RowKey = the escaped ID): LogoutRequests, and assertions accepted before the ACS recorded them
/// in its sign-in transaction (<see cref="ConnectionSignInStore"/>). Profiles §4.1.4.5: a message is
/// used once. Recording is an insert, so of two posts of one message exactly one succeeds; rows are
/// kept until the message would be refused as expired anyway.
/// </summary>
public sealed class AssertionReplayStore(TableStorage storage) : ISignInRowSweep
{
    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.SamlAssertions, cancellationToken);

    /// <summary>True when the assertion ID was not seen before and is now recorded; false for a replay.</summary>
    public Task<bool> TryRecordAsync(ConnectionId connectionId, string assertionId, DateTimeOffset keepUntil,
        CancellationToken cancellationToken) => TryRecordAsync(connectionId, assertionId, keepUntil, null, cancellationToken);

    /// <summary>
    /// As above, and an assertion already recorded by the same <paramref name="owner"/> (a hash of the
    /// pending sign-in's handle) is not a replay: the ACS records the assertion beside removing the
    /// pending sign-in, and that removal (under its ETag) already lets exactly one request with this
    /// handle through. Without it, a browser's double submit could make each request lose one of the
    /// two writes and refuse both. Another handle, or an unsolicited response (a fresh handle each
    /// time), is still refused.
    /// </summary>
    public async Task<bool> TryRecordAsync(ConnectionId connectionId, string assertionId, DateTimeOffset keepUntil, string? owner,
        CancellationToken cancellationToken)
    {
        var rowKey = RowKeyOf(assertionId);
        var table = await TableAsync(cancellationToken);
        try
        {
            await table.AddEntityAsync(new TableEntity(connectionId.Value, rowKey) { ["KeepUntil"] = keepUntil, ["Owner"] = owner }, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            if (owner is null) return false;
            var recorded = await table.GetEntityIfExistsAsync<TableEntity>(connectionId.Value, rowKey, select: ["Owner"], cancellationToken: cancellationToken);
            return recorded.HasValue && recorded.Value!.GetString("Owner") == owner;
        }
    }

    /// <summary>
    /// Whether an assertion ID was recorded here. The ACS records assertion IDs in the connection's
    /// partition of "signins" (<see cref="ConnectionSignInStore"/>); an unsolicited response is also
    /// checked here, against assertions accepted before that layout, until they have expired.
    /// </summary>
    public async Task<bool> WasRecordedAsync(ConnectionId connectionId, string assertionId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(connectionId.Value, RowKeyOf(assertionId), select: ["PartitionKey"],
            cancellationToken: cancellationToken);
        return row.HasValue;
    }

    private static string RowKeyOf(string assertionId)
    {
        var rowKey = TableKey.Escape(assertionId);
        return TableKey.FitsInKey(rowKey)
            ? rowKey
            : "sha256|" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(assertionId)));
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
