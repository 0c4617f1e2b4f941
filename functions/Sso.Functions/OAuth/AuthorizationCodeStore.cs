using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// Authorization codes (table "authorizationcodes", PartitionKey = the client the code was issued
/// to and the first byte of the code's hash (<see cref="PartitionOf"/>), RowKey <c>code|sha256(code)</c>). Only the hash is stored; a code is redeemed
/// once: read, then delete under the ETag, so of two concurrent redemptions one wins. A SAML
/// sign-in's code is written by <see cref="ConnectionSignInStore"/> in its connection's partitions
/// of "signins" instead; its value says so, and the lookups here read it there.
/// </summary>
public sealed class AuthorizationCodeStore(TableStorage storage, Outbox.OutboxPublisher publisher)
{
    public const string TableName = TableNames.AuthorizationCodes;

    /// <summary>
    /// A client's codes spread over 256 partitions by the first byte of the code's hash: with one
    /// client (the usual deployment) every sign-in of every tenant writes here, and one partition
    /// would cap the fleet at about 2,000 entities/s. Refused sign-ins' events spread the same way.
    /// </summary>
    public static string PartitionOf(ClientId clientId, string hash) => clientId.Value + "|" + hash[..2];

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    /// <summary>
    /// Stores the code together with the outbox row of its <c>sso.login</c> event (one partition,
    /// one transaction) and returns the code's value (shown only to the client, in the redirect).
    /// </summary>
    public async Task<string> CreateAsync(AuthorizationCode code, Outbox.EventRecord login, CancellationToken cancellationToken)
    {
        var value = AuthorizationCode.NewValue();
        var table = await TableAsync(cancellationToken);
        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, code.ToEntity(AuthorizationCode.HashOf(value))),
            new(TableTransactionActionType.Add, login.ToOutboxEntity(PartitionOf(code.ClientId, AuthorizationCode.HashOf(value)))),
        ], cancellationToken);
        publisher.Post(TableName, PartitionOf(code.ClientId, AuthorizationCode.HashOf(value)), [login]);
        return value;
    }

    /// <summary>
    /// The code as stored: live (not yet redeemed; the token endpoint redeems it beside its other work),
    /// or the tombstone of a redemption (a replay), or null when unknown.
    /// </summary>
    public async Task<CodeLookup?> FindAsync(ClientId clientId, string code, CancellationToken cancellationToken)
    {
        if (code.Length is 0 or > 256) return null;
        var (table, partition, rowKey) = await LocateAsync(clientId, code, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, cancellationToken: cancellationToken);
        if (!row.HasValue || !IsOf(row.Value!, clientId)) return null;
        return RedeemedCode.IsTombstone(row.Value!)
            ? new CodeLookup(null, RedeemedCode.FromEntity(row.Value!))
            : new CodeLookup(AuthorizationCode.FromEntity(row.Value!), null);
    }

    /// <summary>
    /// Where a code lives: a SAML sign-in's code in its connection's partition (the code names it,
    /// <see cref="ConnectionSignInStore"/>), any other in one of the client's partitions here.
    /// </summary>
    private async Task<(TableClient Table, string Partition, string RowKey)> LocateAsync(ClientId clientId, string code,
        CancellationToken cancellationToken)
    {
        var hash = AuthorizationCode.HashOf(code);
        return AuthorizationCode.TryReadConnection(code, out var connectionId)
            ? (await storage.GetTableAsync(ConnectionSignInStore.TableName, cancellationToken), ConnectionSignInStore.PartitionOf(connectionId, code),
                TableKey.Row("code", hash))
            : (await TableAsync(cancellationToken), PartitionOf(clientId, hash), TableKey.Row("code", hash));
    }

    // A connection's partition holds the codes of every client: the row must name the one asking.
    private static bool IsOf(TableEntity row, ClientId clientId) =>
        row.GetString("ClientId") is not { } stored || stored == clientId.Value;

    /// <summary>
    /// Marks a code read by <see cref="FindAsync"/> as redeemed, under its ETag: of two redemptions,
    /// exactly one gets true. The row becomes a tombstone (no profile, just what a replay must revoke)
    /// that lives a little longer than the code could have, so a second redemption is recognised.
    /// </summary>
    public async Task<bool> RedeemAsync(AuthorizationCode found, string code, RedeemedCode tombstone, CancellationToken cancellationToken)
    {
        var (table, partition, rowKey) = await LocateAsync(found.ClientId, code, cancellationToken);
        var entity = tombstone.ToEntity(partition, rowKey);
        entity["ClientId"] = found.ClientId.Value;
        try
        {
            await table.UpdateEntityAsync(entity, found.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>The code, removed so it cannot be redeemed again; null when unknown or already redeemed.</summary>
    public async Task<AuthorizationCode?> TakeAsync(ClientId clientId, string code, CancellationToken cancellationToken)
    {
        if (code.Length is 0 or > 256) return null;
        var (table, partition, rowKey) = await LocateAsync(clientId, code, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, cancellationToken: cancellationToken);
        if (!row.HasValue || RedeemedCode.IsTombstone(row.Value!) || !IsOf(row.Value!, clientId)) return null;
        try
        {
            // The SDK answers a delete of a row that is gone with a 404 response, not an exception.
            if ((await table.DeleteEntityAsync(partition, rowKey, row.Value!.ETag, cancellationToken)).Status == 404) return null;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
        return AuthorizationCode.FromEntity(row.Value);
    }
}
