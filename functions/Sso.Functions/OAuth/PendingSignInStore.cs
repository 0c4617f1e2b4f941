using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// Pending sign-ins (table "pendingsignins"; PartitionKey = the handle, which starts with the
/// connection id it belongs to). A pending sign-in is consumed once: the read is followed by a
/// delete under its ETag, so of two concurrent ACS posts with one RelayState only one wins.
/// A SAML sign-in's pending row is in its connection's partition of "signins" instead
/// (<see cref="ConnectionSignInStore"/>), where the ACS removes it in the transaction that issues
/// the code; <see cref="FindAsync"/> and <see cref="RemoveAsync"/> handle either place.
/// </summary>
public sealed class PendingSignInStore(TableStorage storage, TimeProvider clock, ConnectionSignInStore signIns)
{
    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.PendingSignIns, cancellationToken);

    public async Task CreateAsync(PendingSignIn pending, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.AddEntityAsync(pending.ToEntity(), cancellationToken);
    }

    /// <summary>Reads the pending sign-in without consuming it (for pages that come back to it).</summary>
    public async Task<PendingSignIn?> PeekAsync(string handle, CancellationToken cancellationToken)
    {
        if (!PendingSignIn.TryReadConnection(handle, out _)) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(handle, PendingSignIn.RowKey, cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var pending = PendingSignIn.FromEntity(row.Value!);
        return clock.GetUtcNow() < pending.ExpiresAt ? pending : null;
    }

    /// <summary>
    /// The pending sign-in, removed so that it cannot be used again; null when the handle is
    /// unknown, already consumed or expired.
    /// </summary>
    public async Task<PendingSignIn?> ConsumeAsync(string handle, CancellationToken cancellationToken) =>
        await TakeAsync(handle, cancellationToken) is { Expired: false } taken ? taken.PendingSignIn : null;

    /// <summary>
    /// The pending sign-in, not yet removed, with whether it expired: the ACS reads it, checks the
    /// answer against it and then removes it (<see cref="RemoveAsync"/>) beside its other single-use writes.
    /// </summary>
    public async Task<(PendingSignIn PendingSignIn, bool Expired)?> FindAsync(string handle, CancellationToken cancellationToken)
    {
        if (!PendingSignIn.TryReadConnection(handle, out _)) return null;
        // The connection's partition first; the handle's own partition holds one started before that layout.
        if (await signIns.FindPendingAsync(handle, cancellationToken) is { } inConnection)
            return (inConnection, clock.GetUtcNow() >= inConnection.ExpiresAt);
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(handle, PendingSignIn.RowKey, cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var pending = PendingSignIn.FromEntity(row.Value!);
        return (pending, clock.GetUtcNow() >= pending.ExpiresAt);
    }

    /// <summary>Removes a pending sign-in under the ETag it was read with: of two requests that read it, one wins (true).</summary>
    public async Task<bool> RemoveAsync(PendingSignIn pending, CancellationToken cancellationToken)
    {
        if (pending.InConnectionPartition) return await signIns.RemovePendingAsync(pending, cancellationToken);
        var table = await TableAsync(cancellationToken);
        try
        {
            // The SDK answers a delete of a row that is gone with a 404 response, not an exception.
            var deleted = await table.DeleteEntityAsync(pending.Handle, PendingSignIn.RowKey, pending.ETag, cancellationToken);
            return deleted.Status != 404;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>
    /// Like <see cref="ConsumeAsync"/>, but an expired sign-in is returned (and removed) with
    /// <c>Expired</c> set, so the caller can still send the error back to its redirect URI.
    /// </summary>
    public async Task<(PendingSignIn PendingSignIn, bool Expired)?> TakeAsync(string handle, CancellationToken cancellationToken)
    {
        if (!PendingSignIn.TryReadConnection(handle, out _)) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(handle, PendingSignIn.RowKey, cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        try
        {
            // The SDK answers a delete of a row that is gone with a 404 response, not an exception:
            // without this check every concurrent taker would win.
            if ((await table.DeleteEntityAsync(handle, PendingSignIn.RowKey, row.Value!.ETag, cancellationToken)).Status == 404) return null;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
        var pending = PendingSignIn.FromEntity(row.Value);
        return (pending, clock.GetUtcNow() >= pending.ExpiresAt);
    }
}
