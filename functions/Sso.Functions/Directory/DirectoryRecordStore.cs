using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// The directory rows and their SCIM tokens, in the directory's partition of table "directory": the
/// directory row, its tokens (<c>token|</c>, <c>tokenHash|</c>), the SCIM credential lookup with its
/// instance cache, the tenant's list of directories (<c>tenantDirectory|</c> rows in the tenant's
/// partition) and the purge of a whole directory.
/// </summary>
public sealed partial class DirectoryRecordStore(DirectoryPartitionWriter writer, TimeProvider clock, ILogger<DirectoryRecordStore> logger)
{
    /// <summary>
    /// How long an instance trusts a SCIM token it found (with its directory row) without reading
    /// them again: a token revoked or a directory deleted on another instance is refused after at
    /// most this long; on the instance that did it, at once (DESIGN §4: within 10 s everywhere).
    /// </summary>
    public static readonly TimeSpan CredentialCacheFor = TimeSpan.FromSeconds(5);

    /// <summary>How long the LastUsedAt write of a token may take; it runs after the answer, never before it.</summary>
    public static readonly TimeSpan TouchDeadline = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long an instance keeps a tenant's list of directories for the sign-in lookup: a directory
    /// created on another instance is searched after at most this long, on this one at once. (A
    /// purged directory's rows are gone, so a stale list never admits anyone.)
    /// </summary>
    public static readonly TimeSpan DirectoryListCacheFor = TimeSpan.FromSeconds(5);

    public const string TenantDirectoryKind = "tenantDirectory";

    private readonly InstanceCache<(DirectoryId Directory, string Hash), ScimCredential> _credentials = new(clock, CredentialCacheFor);
    private readonly InstanceCache<TenantId, IReadOnlyList<DirectoryId>> _tenantDirectories = new(clock, DirectoryListCacheFor);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, DirectoryId> _touches = new();

    /// <summary>The tenant's index row of a directory (partition = tenant id).</summary>
    internal static TableEntity TenantIndexEntity(DirectoryRecord directory) =>
        new(directory.TenantId.Value, TableKey.Row(TenantDirectoryKind, directory.Id.Value)) { ["DirectoryId"] = directory.Id.Value };

    public async Task CreateDirectoryAsync(DirectoryRecord directory, DirectoryToken token, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        // Order: the tenant's index row first (partition = tenant id), then the directory. A crash in
        // between leaves an index row without a directory, which readers skip.
        await table.UpsertEntityAsync(TenantIndexEntity(directory), TableUpdateMode.Replace, cancellationToken);
        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, directory.ToEntity()),
            new(TableTransactionActionType.Add, token.ToEntity()),
            new(TableTransactionActionType.Add, token.ToHashEntity()),
        ], cancellationToken);
        _tenantDirectories.Invalidate(directory.TenantId);
    }

    public async Task<IReadOnlyList<DirectoryId>> ListDirectoryIdsAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var ids = new List<DirectoryId>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(tenantId.Value, TenantDirectoryKind), cancellationToken: cancellationToken))
            ids.Add(new DirectoryId(row.GetString("DirectoryId")));
        return ids;
    }

    /// <summary><see cref="ListDirectoryIdsAsync"/> kept for <see cref="DirectoryListCacheFor"/> (the sign-in lookup's).</summary>
    public async Task<IReadOnlyList<DirectoryId>> ListDirectoryIdsCachedAsync(TenantId tenantId, CancellationToken cancellationToken) =>
        await _tenantDirectories.GetOrLoadAsync(tenantId, async token => await ListDirectoryIdsAsync(tenantId, token), cancellationToken) ?? [];

    public async Task<DirectoryRecord?> FindDirectoryAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, DirectoryRecord.RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? DirectoryRecord.FromEntity(row.Value!) : null;
    }

    /// <summary>The directories of a tenant: a filter over the directory rows (one per partition).</summary>
    public async Task<IReadOnlyList<DirectoryRecord>> ListDirectoriesOfTenantAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var directories = new List<DirectoryRecord>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"RowKey eq '{DirectoryRecord.RowKey}' and TenantId eq '{TableKey.Quote(tenantId.Value)}'",
                           cancellationToken: cancellationToken))
            directories.Add(DirectoryRecord.FromEntity(row));
        return directories;
    }

    /// <summary>
    /// Deletes every row of a directory (its tenant was deleted). The directory row goes last, so
    /// a purge cut short is found again and finished by a redelivery.
    /// </summary>
    public async Task<int> PurgeDirectoryAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>($"PartitionKey eq '{TableKey.Quote(id.Value)}'", select: ["RowKey"],
                           cancellationToken: cancellationToken))
            keys.Add(row.RowKey);
        var ordered = keys.Where(k => k != DirectoryRecord.RowKey).Append(DirectoryRecord.RowKey).Where(keys.Contains).ToList();
        // A concurrent purge removed some rows first; the next delivery finishes the rest.
        await writer.DeleteRowsAsync(id, ordered, e => new InvalidOperationException("The directory changed during its purge; retry.", e), cancellationToken);
        _credentials.InvalidateWhere(key => key.Directory == id);
        return ordered.Count;
    }

    // ---- tokens ----

    public async Task AddTokenAsync(DirectoryToken token, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, token.ToEntity()),
            new(TableTransactionActionType.Add, token.ToHashEntity()),
        ], cancellationToken);
    }

    public async Task<IReadOnlyList<DirectoryToken>> ListTokensAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        // This instance's LastUsedAt writes still in flight land first, so the list shows the use
        // that the caller just made (each has its own short deadline).
        await Task.WhenAll(_touches.Where(t => t.Value == id).Select(t => t.Key));
        var table = await writer.TableAsync(cancellationToken);
        var lastUsed = new Dictionary<string, DateTimeOffset?>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryToken.HashKind), cancellationToken: cancellationToken))
            lastUsed[row.GetString("TokenId")] = row.GetDateTimeOffset("LastUsedAt");
        var tokens = new List<DirectoryToken>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryToken.Kind), cancellationToken: cancellationToken))
        {
            var token = DirectoryToken.FromEntity(row);
            tokens.Add(token with { LastUsedAt = lastUsed.GetValueOrDefault(token.Id) });
        }
        return tokens.OrderBy(t => t.CreatedAt).ToList();
    }

    /// <summary>Deletes the token and its hash row together: the next request with it is refused.</summary>
    public async Task<bool> RevokeTokenAsync(DirectoryId id, string tokenId, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row(DirectoryToken.Kind, tokenId), cancellationToken: cancellationToken);
        if (!row.HasValue) return false;
        var token = DirectoryToken.FromEntity(row.Value!);
        try
        {
            await table.SubmitTransactionAsync(
            [
                new(TableTransactionActionType.Delete, new TableEntity(id.Value, row.Value!.RowKey), token.ETag),
                new(TableTransactionActionType.Delete, token.ToHashEntity(), ETag.All),
            ], cancellationToken);
            _credentials.Invalidate((id, Convert.ToHexStringLower(token.Hash)));
            return true;
        }
        catch (TableTransactionFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    public sealed record TokenMatch(string TokenId, byte[] Hash, DateTimeOffset? LastUsedAt, DateTimeOffset? ExpiresAt, ETag ETag);

    public async Task<TokenMatch?> FindTokenByHashAsync(DirectoryId id, byte[] hash, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row(DirectoryToken.HashKind, Convert.ToHexStringLower(hash)),
            cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var entity = row.Value!;
        return new TokenMatch(entity.GetString("TokenId"), Convert.FromHexString(entity.GetString("Hash")),
            entity.GetDateTimeOffset("LastUsedAt"), entity.GetDateTimeOffset("ExpiresAt"), entity.ETag);
    }

    /// <summary>A SCIM token found by its hash, with the directory it belongs to (both read side by side).</summary>
    public sealed class ScimCredential(TokenMatch token, DirectoryRecord directory)
    {
        private long _touchedAtTicks = token.LastUsedAt?.UtcTicks ?? 0;

        public TokenMatch Token { get; } = token;
        public DirectoryRecord Directory { get; } = directory;

        /// <summary>True for the first caller once <paramref name="granularity"/> has passed since the last recorded use.</summary>
        public bool ClaimTouch(DateTimeOffset now, TimeSpan granularity)
        {
            var last = Interlocked.Read(ref _touchedAtTicks);
            return (last == 0 || now.UtcTicks - last >= granularity.Ticks)
                   && Interlocked.CompareExchange(ref _touchedAtTicks, now.UtcTicks, last) == last;
        }
    }

    /// <summary>
    /// The token with this hash in the directory's partition and the directory row, or null. A match
    /// is kept for <see cref="CredentialCacheFor"/>; a miss is never kept. The caller still checks
    /// the expiry on every request, so an expired token is refused at its instant on every instance.
    /// </summary>
    public Task<ScimCredential?> FindCredentialAsync(DirectoryId id, byte[] hash, CancellationToken cancellationToken) =>
        _credentials.GetOrLoadAsync((id, Convert.ToHexStringLower(hash)), async token =>
        {
            var match = FindTokenByHashAsync(id, hash, token);
            var directory = FindDirectoryAsync(id, token);
            await Task.WhenAll(match, directory);
            return match.Result is { } found && directory.Result is { } record ? new ScimCredential(found, record) : null;
        }, cancellationToken);

    /// <summary>
    /// Records when a token was last used, after the answer: the IdP does not wait for it. Bounded by
    /// <see cref="TouchDeadline"/>; a concurrent touch or a revocation wins, and a failure is only logged.
    /// </summary>
    public void TouchTokenInBackground(DirectoryId id, TokenMatch match, DateTimeOffset now)
    {
        var touch = TouchTokenAsync(id, match, now);
        _touches[touch] = id;
        _ = touch.ContinueWith(t => _touches.TryRemove(t, out _), TaskScheduler.Default);
    }

    private async Task TouchTokenAsync(DirectoryId id, TokenMatch match, DateTimeOffset now)
    {
        using var deadline = new CancellationTokenSource(TouchDeadline);
        try
        {
            var table = await writer.TableAsync(deadline.Token);
            await table.UpdateEntityAsync(new TableEntity(id.Value, TableKey.Row(DirectoryToken.HashKind, Convert.ToHexStringLower(match.Hash)))
            {
                ["LastUsedAt"] = now,
            }, match.ETag, TableUpdateMode.Merge, deadline.Token);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
        }
        catch (Exception e) when (e is RequestFailedException or HttpRequestException or IOException or TimeoutException or OperationCanceledException)
        {
            LogTouchFailed(logger, id.Value, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The last use of a SCIM token of directory {DirectoryId} was not recorded")]
    private static partial void LogTouchFailed(ILogger logger, string directoryId, Exception exception);

    /// <summary>
    /// Tokens of every directory whose expiry falls in [<paramref name="from"/>, <paramref name="until"/>).
    /// A cross-partition scan of the token kind, as the outbox sweep does; the daily expiry notice runs it.
    /// </summary>
    public async IAsyncEnumerable<DirectoryToken> QueryTokensExpiringAsync(DateTimeOffset from, DateTimeOffset until,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {DirectoryToken.Kind + "|"} and RowKey lt {DirectoryToken.Kind + "}"} and ExpiresAt ge {from} and ExpiresAt lt {until}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            yield return DirectoryToken.FromEntity(row);
    }

    /// <summary>
    /// Saves the token's notice mark and writes the notice's outbox row in the same transaction, so
    /// the notice goes out once: a second run sees the mark, a concurrent one loses the ETag race.
    /// </summary>
    public Task<SaveOutcome> MarkTokenNoticeAsync(DirectoryToken before, DirectoryToken marked, EventRecord notice,
        CancellationToken cancellationToken) =>
        writer.CommitAsync(before.DirectoryId,
            [new WriteUnit([new(TableTransactionActionType.UpdateMerge, marked.ToEntity(), before.ETag)], [notice])], cancellationToken);
}
