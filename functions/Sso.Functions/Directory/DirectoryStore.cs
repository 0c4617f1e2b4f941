using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// Everything a SCIM directory holds, in table "directory" with one partition per directory:
/// the directory row, its tokens (<c>token|</c>, <c>tokenHash|</c>), users (<c>user|</c>) with their
/// unique index rows (<c>userName|</c>, <c>externalId|</c>), groups (<c>group|</c>, <c>groupName|</c>),
/// membership rows (<c>member|grp|usr</c> and the mirror <c>memberOf|usr|grp</c>) and the outbox
/// (<c>event|</c>). A change, its index rows and its events commit in one transaction.
/// </summary>
public sealed partial class DirectoryStore(TableStorage storage, OutboxPublisher publisher, TimeProvider clock, ILogger<DirectoryStore> logger)
{
    public const string TableName = TableNames.Directory;

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

    private readonly InstanceCache<(DirectoryId Directory, string Hash), ScimCredential> _credentials = new(clock, CredentialCacheFor);
    private readonly InstanceCache<TenantId, IReadOnlyList<DirectoryId>> _tenantDirectories = new(clock, DirectoryListCacheFor);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, DirectoryId> _touches = new();

    /// <summary>The actions that must commit together, with the events they cause.</summary>
    public sealed record WriteUnit(List<TableTransactionAction> Actions, List<EventRecord> Events)
    {
        public WriteUnit(params TableTransactionAction[] actions) : this(actions.ToList(), []) { }
    }

    public Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    /// <summary>The directory's users that are neither deleted nor deactivated (a scan of its user rows).</summary>
    public async Task<int> CountActiveUsersAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var active = 0;
        var table = await TableAsync(cancellationToken);
        await foreach (var user in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryUser.Kind),
                           select: ["Active", "Deleted"], cancellationToken: cancellationToken))
            if (user.GetBoolean("Deleted") != true && user.GetBoolean("Active") != false) active++;
        return active;
    }

    // ---- directories and tokens ----

    public const string TenantDirectoryKind = "tenantDirectory";

    public async Task CreateDirectoryAsync(DirectoryRecord directory, DirectoryToken token, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        // Order: the tenant's index row first (partition = tenant id), then the directory. A crash in
        // between leaves an index row without a directory, which readers skip.
        await table.UpsertEntityAsync(new TableEntity(directory.TenantId.Value, TableKey.Row(TenantDirectoryKind, directory.Id.Value))
        {
            ["DirectoryId"] = directory.Id.Value,
        }, TableUpdateMode.Replace, cancellationToken);
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
        var table = await TableAsync(cancellationToken);
        var ids = new List<DirectoryId>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(tenantId.Value, TenantDirectoryKind), cancellationToken: cancellationToken))
            ids.Add(new DirectoryId(row.GetString("DirectoryId")));
        return ids;
    }

    public async Task<DirectoryRecord?> FindDirectoryAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, DirectoryRecord.RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? DirectoryRecord.FromEntity(row.Value!) : null;
    }

    public async Task AddTokenAsync(DirectoryToken token, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
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
        var table = await TableAsync(cancellationToken);
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
        var table = await TableAsync(cancellationToken);
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
        var table = await TableAsync(cancellationToken);
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
            var table = await TableAsync(deadline.Token);
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
        var table = await TableAsync(cancellationToken);
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {DirectoryToken.Kind + "|"} and RowKey lt {DirectoryToken.Kind + "}"} and ExpiresAt ge {from} and ExpiresAt lt {until}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            yield return DirectoryToken.FromEntity(row);
    }

    /// <summary>
    /// Saves the token's notice mark and writes the notice's outbox row in the same transaction, so
    /// the notice goes out once: a second run sees the mark, a concurrent one loses the ETag race.
    /// </summary>
    public async Task<SaveOutcome> MarkTokenNoticeAsync(DirectoryToken before, DirectoryToken marked, EventRecord notice,
        CancellationToken cancellationToken) =>
        await CommitAsync(before.DirectoryId,
            [new WriteUnit([new(TableTransactionActionType.UpdateMerge, marked.ToEntity(), before.ETag)], [notice])], cancellationToken);

    // ---- index keys ----

    public static string UserNameKey(string userName) => TableKey.Row("userName", userName.ToLowerInvariant());

    public static string ExternalIdKey(string externalId) => TableKey.Row("externalId", externalId);

    public static string GroupNameKey(string displayName, string groupId) =>
        TableKey.Row("groupName", displayName.ToLowerInvariant()) + "|" + TableKey.Escape(groupId);

    private static string GroupNamePrefix(string displayName) => TableKey.Row("groupName", displayName.ToLowerInvariant()) + "|";

    // ---- users ----

    public async Task<DirectoryUser?> FindUserAsync(DirectoryId id, string userId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(TableKey.Row(DirectoryUser.Kind, userId))) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row(DirectoryUser.Kind, userId), cancellationToken: cancellationToken);
        return row.HasValue ? DirectoryUser.FromEntity(row.Value!) : null;
    }

    /// <summary>A point read of an index row (<see cref="UserNameKey"/>, <see cref="ExternalIdKey"/>), then of the user.</summary>
    public async Task<DirectoryUser?> FindUserByIndexAsync(DirectoryId id, string indexRowKey, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(indexRowKey)) return null;
        var table = await TableAsync(cancellationToken);
        var index = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, indexRowKey, cancellationToken: cancellationToken);
        if (!index.HasValue) return null;
        return await FindUserAsync(id, index.Value!.GetString("UserId"), cancellationToken);
    }

    /// <summary>A user found by userName; <paramref name="InGroups"/> false only when the user is certainly in no group.</summary>
    public sealed record UserByName(DirectoryUser User, bool InGroups);

    /// <summary>
    /// The IdPs' lookup before every create (<c>userName eq "x"</c>) in one point read: the userName
    /// index row carries the user as of its last write (each user write rewrites it in the same
    /// transaction) and whether the user may be in a group. An index row written before it carried
    /// the user costs a second read, of the user row.
    /// </summary>
    public async Task<UserByName?> FindUserByUserNameAsync(DirectoryId id, string userName, CancellationToken cancellationToken)
    {
        var key = UserNameKey(userName);
        if (!TableKey.FitsInKey(key)) return null;
        var table = await TableAsync(cancellationToken);
        var index = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, key, cancellationToken: cancellationToken);
        if (!index.HasValue) return null;
        var row = index.Value!;
        var inGroups = row.GetBoolean(InGroupsProperty) ?? true;
        if (row.GetString("Resource") is null)
            return await FindUserAsync(id, row.GetString("UserId"), cancellationToken) is { } user ? new UserByName(user, inGroups) : null;
        // The index row's ETag is not the user row's: the copy is for answering, never for a conditional write.
        return new UserByName(DirectoryUser.FromEntity(row, row.GetString("UserId")) with { ETag = default }, inGroups);
    }

    private const string InGroupsProperty = "InGroups";

    /// <summary>
    /// The userName index row as a copy of the user row. <paramref name="inGroups"/>: written on a new
    /// row; null leaves the flag as it is (a merge into the row that stays).
    /// </summary>
    private static TableEntity UserNameIndexEntity(DirectoryUser user, bool? inGroups)
    {
        var entity = user.ToEntity();
        entity.RowKey = UserNameKey(user.UserName);
        entity["UserId"] = user.Id;
        if (inGroups is { } flag) entity[InGroupsProperty] = flag;
        return entity;
    }

    /// <summary>
    /// Marks the member's userName index row as in a group, in the membership's transaction. Every
    /// membership row of a user is inserted with this merge, so a row without the flag set means no
    /// membership; a user renamed or deleted meanwhile has no row under the old name, the merge
    /// fails (404) and the membership is not written.
    /// </summary>
    private static TableTransactionAction MarkInGroups(DirectoryId id, string userName) =>
        new(TableTransactionActionType.UpdateMerge, new TableEntity(id.Value, UserNameKey(userName)) { [InGroupsProperty] = true }, ETag.All);

    public async Task<bool> IndexExistsAsync(DirectoryId id, string indexRowKey, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        return (await table.GetEntityIfExistsAsync<TableEntity>(id.Value, indexRowKey, select: ["RowKey"], cancellationToken: cancellationToken)).HasValue;
    }

    /// <summary>
    /// Sign-in index rows (<c>signIn|&lt;lower-cased userName or primary email&gt;|&lt;user id&gt;</c>): not
    /// unique. A live user's userName index row already answers for its userName, so a live user
    /// has a sign-in row only for a primary email that differs from it (a create commits one row
    /// fewer); a deleted user, whose userName row is gone, has rows for both, written in the
    /// delete's transaction and kept, so a sign-in can be refused for a deprovisioned user too.
    /// </summary>
    public static IReadOnlySet<string> SignInKeys(DirectoryUser user)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        if (user.Deleted) keys.Add(SignInKey(user.UserName, user.Id));
        if (DirectoryViews.PrimaryEmail(user.Resource) is { Length: > 0 } email && !SameSignInValue(email, user.UserName))
            keys.Add(SignInKey(email, user.Id));
        return keys.Where(TableKey.FitsInKey).ToHashSet();
    }

    private static bool SameSignInValue(string a, string b) => string.Equals(a.ToLowerInvariant(), b.ToLowerInvariant(), StringComparison.Ordinal);

    private static string SignInKey(string value, string userId) => TableKey.Row("signIn", value.ToLowerInvariant()) + "|" + TableKey.Escape(userId);

    private static IEnumerable<TableTransactionAction> SignInChanges(DirectoryUser? before, DirectoryUser after)
    {
        var old = before is null ? new HashSet<string>() : SignInKeys(before);
        var current = SignInKeys(after);
        foreach (var key in old.Except(current))
            yield return new(TableTransactionActionType.Delete, new TableEntity(after.DirectoryId.Value, key), ETag.All);
        foreach (var key in current.Except(old))
            yield return new(TableTransactionActionType.UpsertReplace, new TableEntity(after.DirectoryId.Value, key) { ["UserId"] = after.Id });
    }

    /// <summary>
    /// The users of a tenant's directories whose userName or primary email is <paramref name="email"/>
    /// (ignoring case), deleted ones included: from the tenant's directory index (cached for
    /// <see cref="DirectoryListCacheFor"/>), and in each
    /// directory the userName index row and the sign-in index rows side by side, never a scan.
    /// </summary>
    public async Task<IReadOnlyList<DirectoryUser>> FindSignInCandidatesAsync(TenantId tenantId, string email, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var prefix = TableKey.Row("signIn", email.ToLowerInvariant()) + "|";
        if (!TableKey.FitsInKey(prefix + "x")) return [];
        var directoryIds = await _tenantDirectories.GetOrLoadAsync(tenantId, async token => await ListDirectoryIdsAsync(tenantId, token), cancellationToken) ?? [];
        var perDirectory = await Task.WhenAll(directoryIds.Select(async directoryId =>
        {
            var byUserName = FindUserByUserNameAsync(directoryId, email, cancellationToken);
            var userIds = new List<string>();
            await foreach (var row in table.QueryAsync<TableEntity>(
                               $"PartitionKey eq '{TableKey.Quote(directoryId.Value)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
                               select: ["UserId"], cancellationToken: cancellationToken))
                userIds.Add(row.GetString("UserId"));
            var live = (await byUserName)?.User;
            var indexed = await Task.WhenAll(userIds.Where(userId => userId != live?.Id)
                .Select(userId => FindUserAsync(directoryId, userId, cancellationToken)));
            return indexed.Append(live);
        }));
        // A sign-in row written before a live user's userName stopped having one may outlive a
        // rename: only users whose userName or primary email is the address count.
        return perDirectory.SelectMany(users => users).OfType<DirectoryUser>()
            .Where(user => SameSignInValue(user.UserName, email)
                           || DirectoryViews.PrimaryEmail(user.Resource) is { Length: > 0 } primary && SameSignInValue(primary, email))
            .ToList();
    }

    private static IEnumerable<TableTransactionAction> UserIndexAdds(DirectoryUser user)
    {
        // Nobody knew the new user's id: it is in no group yet.
        yield return new(TableTransactionActionType.Add, UserNameIndexEntity(user, inGroups: false));
        if (user.ExternalId is { Length: > 0 } externalId)
            yield return new(TableTransactionActionType.Add, new TableEntity(user.DirectoryId.Value, ExternalIdKey(externalId)) { ["UserId"] = user.Id });
    }

    // The index rows of a user belong to that user; the user row's ETag guards every change to
    // them, so they are deleted unconditionally.
    private static IEnumerable<TableTransactionAction> UserIndexDeletes(DirectoryUser user)
    {
        yield return new(TableTransactionActionType.Delete, new TableEntity(user.DirectoryId.Value, UserNameKey(user.UserName)), ETag.All);
        if (user.ExternalId is { Length: > 0 } externalId)
            yield return new(TableTransactionActionType.Delete, new TableEntity(user.DirectoryId.Value, ExternalIdKey(externalId)), ETag.All);
    }

    public async Task<SaveOutcome> CreateUserAsync(DirectoryUser user, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        var unit = new WriteUnit([new(TableTransactionActionType.Add, user.ToEntity()), .. UserIndexAdds(user), .. SignInChanges(null, user)], events.ToList());
        return await CommitAsync(user.DirectoryId, [unit], cancellationToken);
    }

    public Task<SaveOutcome> ReplaceUserAsync(DirectoryUser before, DirectoryUser after, IReadOnlyList<EventRecord> events,
        CancellationToken cancellationToken) => ReplaceUserAsync(before, after, events, [], cancellationToken);

    /// <summary>
    /// Saves a user change; <paramref name="memberships"/> (e.g. <see cref="MemberDisplayChange"/> after a
    /// rename) commit after the user row, in its transaction while they fit in 100 actions.
    /// </summary>
    public async Task<SaveOutcome> ReplaceUserAsync(DirectoryUser before, DirectoryUser after, IReadOnlyList<EventRecord> events,
        IReadOnlyList<WriteUnit> memberships, CancellationToken cancellationToken)
    {
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag)];
        // A rename deletes the old index row and adds the new one in the same batch.
        if (UserNameKey(before.UserName) != UserNameKey(after.UserName))
        {
            actions.Add(new(TableTransactionActionType.Delete, new TableEntity(before.DirectoryId.Value, UserNameKey(before.UserName)), ETag.All));
            // The new row cannot know whether a membership was added under the old name meanwhile: it says "maybe".
            actions.Add(new(TableTransactionActionType.Add, UserNameIndexEntity(after, inGroups: true)));
        }
        else
        {
            // Same name: the row keeps its InGroups flag and takes the user's new state.
            actions.Add(new(TableTransactionActionType.UpdateMerge, UserNameIndexEntity(after, inGroups: null), ETag.All));
        }
        if (before.ExternalId != after.ExternalId)
        {
            if (before.ExternalId is { Length: > 0 } oldExternalId)
                actions.Add(new(TableTransactionActionType.Delete, new TableEntity(before.DirectoryId.Value, ExternalIdKey(oldExternalId)), ETag.All));
            if (after.ExternalId is { Length: > 0 } newExternalId)
                actions.Add(new(TableTransactionActionType.Add, new TableEntity(after.DirectoryId.Value, ExternalIdKey(newExternalId)) { ["UserId"] = after.Id }));
        }
        actions.AddRange(SignInChanges(before, after));
        return await CommitAsync(after.DirectoryId, [new WriteUnit(actions, events.ToList()), .. memberships], cancellationToken);
    }

    /// <summary>
    /// Deprovisions a deleted user: the row stays (marked deleted) for the management API, its index
    /// rows go so the IdP may create the userName again (a sign-in row for the userName takes the
    /// place of its index row), and its memberships go with their events.
    /// </summary>
    public async Task<SaveOutcome> DeleteUserAsync(DirectoryUser before, DirectoryUser after, IReadOnlyList<EventRecord> events,
        IReadOnlyList<(Membership Membership, EventRecord Event)> memberships, CancellationToken cancellationToken)
    {
        List<WriteUnit> units =
        [
            new([new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag), .. UserIndexDeletes(before), .. SignInChanges(before, after)],
                events.ToList()),
        ];
        units.AddRange(memberships.Select(m => MembershipRemoval(after.DirectoryId, m.Membership, m.Event)));
        return await CommitAsync(after.DirectoryId, units, cancellationToken);
    }

    public async IAsyncEnumerable<DirectoryUser> QueryUsersAsync(DirectoryId id, bool includeDeleted,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryUser.Kind), cancellationToken: cancellationToken))
        {
            var user = DirectoryUser.FromEntity(row);
            if (includeDeleted || !user.Deleted) yield return user;
        }
    }

    public async Task<(IReadOnlyList<DirectoryUser> Users, string? NextCursor)> ListUsersPageAsync(DirectoryId id, string? cursor, int limit,
        CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await foreach (var page in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryUser.Kind), maxPerPage: limit,
                           cancellationToken: cancellationToken).AsPages(cursor, limit))
            return (page.Values.Select(DirectoryUser.FromEntity).ToList(), page.ContinuationToken);
        return ([], null);
    }

    // ---- groups and memberships ----

    public async Task<DirectoryGroup?> FindGroupAsync(DirectoryId id, string groupId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(TableKey.Row(DirectoryGroup.Kind, groupId))) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row(DirectoryGroup.Kind, groupId), cancellationToken: cancellationToken);
        return row.HasValue ? DirectoryGroup.FromEntity(row.Value!) : null;
    }

    /// <summary>Groups with this display name (case-insensitive), from the name index: a range of one key.</summary>
    public async Task<IReadOnlyList<DirectoryGroup>> FindGroupsByDisplayNameAsync(DirectoryId id, string displayName, CancellationToken cancellationToken)
    {
        var prefix = GroupNamePrefix(displayName);
        if (!TableKey.FitsInKey(prefix + "x")) return [];
        var table = await TableAsync(cancellationToken);
        var groups = new List<DirectoryGroup>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(id.Value)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
                           cancellationToken: cancellationToken))
            if (await FindGroupAsync(id, row.GetString("GroupId"), cancellationToken) is { } group) groups.Add(group);
        return groups;
    }

    public async IAsyncEnumerable<DirectoryGroup> QueryGroupsAsync(DirectoryId id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryGroup.Kind), cancellationToken: cancellationToken))
            yield return DirectoryGroup.FromEntity(row);
    }

    public async Task<(IReadOnlyList<DirectoryGroup> Groups, string? NextCursor)> ListGroupsPageAsync(DirectoryId id, string? cursor, int limit,
        CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await foreach (var page in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryGroup.Kind), maxPerPage: limit,
                           cancellationToken: cancellationToken).AsPages(cursor, limit))
            return (page.Values.Select(DirectoryGroup.FromEntity).ToList(), page.ContinuationToken);
        return ([], null);
    }

    public async Task<IReadOnlyList<Membership>> ListMembersAsync(DirectoryId id, string groupId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var prefix = $"{Membership.Kind}|{TableKey.Escape(groupId)}|";
        var members = new List<Membership>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(id.Value)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
                           cancellationToken: cancellationToken))
            members.Add(new Membership(groupId, row.GetString("MemberId"), row.GetString("UserName"), row.ETag));
        return members;
    }

    public async Task<IReadOnlyList<string>> ListGroupIdsOfMemberAsync(DirectoryId id, string memberId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var prefix = $"{Membership.ReverseKind}|{TableKey.Escape(memberId)}|";
        var groups = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(id.Value)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
                           select: ["GroupId"], cancellationToken: cancellationToken))
            groups.Add(row.GetString("GroupId"));
        return groups;
    }

    public async Task<Membership?> FindMembershipAsync(DirectoryId id, string groupId, string memberId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(Membership.RowKey(groupId, memberId))) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, Membership.RowKey(groupId, memberId), cancellationToken: cancellationToken);
        return row.HasValue ? new Membership(groupId, memberId, row.Value!.GetString("UserName"), row.Value.ETag) : null;
    }

    public static WriteUnit MembershipAddition(DirectoryId id, Membership membership, EventRecord? added)
    {
        var unit = new WriteUnit(
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(id.Value, Membership.RowKey(membership.GroupId, membership.MemberId))
            {
                ["GroupId"] = membership.GroupId,
                ["MemberId"] = membership.MemberId,
                ["UserName"] = membership.MemberUserName,
            }),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(id.Value, Membership.ReverseRowKey(membership.MemberId, membership.GroupId))
            {
                ["GroupId"] = membership.GroupId,
                ["MemberId"] = membership.MemberId,
            }));
        if (membership.MemberId.StartsWith(DirectoryUser.IdPrefix, StringComparison.Ordinal) && membership.MemberUserName is { } userName
            && TableKey.FitsInKey(UserNameKey(userName)))
            unit.Actions.Add(MarkInGroups(id, userName));
        if (added is not null) unit.Events.Add(added);
        return unit;
    }

    public static WriteUnit MembershipRemoval(DirectoryId id, Membership membership, EventRecord? removed)
    {
        var unit = new WriteUnit(
            new TableTransactionAction(TableTransactionActionType.Delete,
                new TableEntity(id.Value, Membership.RowKey(membership.GroupId, membership.MemberId)), membership.ETag == default ? ETag.All : membership.ETag),
            // The mirror row changes only together with its member row, which carries the ETag check.
            new TableTransactionAction(TableTransactionActionType.Delete,
                new TableEntity(id.Value, Membership.ReverseRowKey(membership.MemberId, membership.GroupId)), ETag.All));
        if (removed is not null) unit.Events.Add(removed);
        return unit;
    }

    public async Task<SaveOutcome> CreateGroupAsync(DirectoryGroup group, IReadOnlyList<EventRecord> events, IReadOnlyList<WriteUnit> memberships,
        CancellationToken cancellationToken)
    {
        List<WriteUnit> units =
        [
            new([
                new(TableTransactionActionType.Add, group.ToEntity()),
                new(TableTransactionActionType.Add, new TableEntity(group.DirectoryId.Value, GroupNameKey(group.DisplayName, group.Id)) { ["GroupId"] = group.Id }),
            ], events.ToList()),
            .. memberships,
        ];
        return await CommitAsync(group.DirectoryId, units, cancellationToken);
    }

    /// <summary>
    /// Saves a change of the group's attributes or of its whole member list: the group row under its
    /// ETag (so such changes serialise and retry, and a list replacement never loses a parallel
    /// add), its name index, and the membership rows with their events. Member-only changes go
    /// through <see cref="ChangeMembersAsync"/>.
    /// </summary>
    public async Task<SaveOutcome> SaveGroupAsync(DirectoryGroup before, DirectoryGroup after, IReadOnlyList<EventRecord> events,
        IReadOnlyList<WriteUnit> memberships, CancellationToken cancellationToken)
    {
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag)];
        if (GroupNameKey(before.DisplayName, before.Id) != GroupNameKey(after.DisplayName, after.Id))
        {
            actions.Add(new(TableTransactionActionType.Delete, new TableEntity(before.DirectoryId.Value, GroupNameKey(before.DisplayName, before.Id)), ETag.All));
            actions.Add(new(TableTransactionActionType.Add, new TableEntity(after.DirectoryId.Value, GroupNameKey(after.DisplayName, after.Id)) { ["GroupId"] = after.Id }));
        }
        return await CommitAsync(after.DirectoryId, [new WriteUnit(actions, events.ToList()), .. memberships], cancellationToken);
    }

    /// <summary>
    /// Deletes a group the fast way: in one transaction the group row and its name index row go,
    /// a tombstone (<c>deletedGroup|</c>) takes their place and the events commit. The membership
    /// rows stay for the <c>group.remove-memberships</c> tasks the deleted event fans out; every
    /// reader resolves groups through <see cref="FindGroupAsync"/>, which no longer finds it, so
    /// roles and views treat the group as gone from this commit on.
    /// </summary>
    public async Task<SaveOutcome> DeleteGroupAsync(DirectoryGroup group, IReadOnlyList<EventRecord> events, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var tombstone = group.ToEntity();
        tombstone.RowKey = TableKey.Row(DeletedGroupKind, group.Id);
        tombstone["DeletedAt"] = now;
        return await CommitAsync(group.DirectoryId, [new([
            new(TableTransactionActionType.Delete, new TableEntity(group.DirectoryId.Value, TableKey.Row(DirectoryGroup.Kind, group.Id)), group.ETag),
            new(TableTransactionActionType.Delete, new TableEntity(group.DirectoryId.Value, GroupNameKey(group.DisplayName, group.Id)), ETag.All),
            new(TableTransactionActionType.UpsertReplace, tombstone),
        ], events.ToList())], cancellationToken);
    }

    public const string DeletedGroupKind = "deletedGroup";

    /// <summary>A group deleted whose membership rows are still being removed; null once they all are.</summary>
    public async Task<DirectoryGroup?> FindDeletedGroupAsync(DirectoryId id, string groupId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(TableKey.Row(DeletedGroupKind, groupId))) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row(DeletedGroupKind, groupId), cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var entity = row.Value!;
        return new DirectoryGroup(id, groupId, System.Text.Json.Nodes.JsonNode.Parse(entity.GetString("Resource"))!.AsObject(),
            entity.GetInt64("Version") ?? 1, entity.GetDateTimeOffset("Created") ?? default, entity.GetDateTimeOffset("LastModified") ?? default,
            entity.ETag);
    }

    /// <summary>Commits membership removals, each unit with its events (removed, role changed).</summary>
    public Task<SaveOutcome> RemoveMembersAsync(DirectoryId id, IReadOnlyList<WriteUnit> removals, CancellationToken cancellationToken) =>
        CommitAsync(id, removals, cancellationToken);

    /// <summary>
    /// Removes a deleted group's tombstone once no membership row of it is left; true when the
    /// group is gone for good. No row can be added to a deleted group (it is not found), so a
    /// group seen empty stays empty.
    /// </summary>
    public async Task<bool> FinishGroupDeletionAsync(DirectoryId id, string groupId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var prefix = $"{Membership.Kind}|{TableKey.Escape(groupId)}|";
        await foreach (var _ in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{TableKey.Quote(id.Value)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'",
                           maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken))
            return false;
        try
        {
            await table.DeleteEntityAsync(id.Value, TableKey.Row(DeletedGroupKind, groupId), ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // Another chunk's task finished it first.
        }
        return true;
    }

    // ---- the transaction ----

    /// <summary>
    /// Commits units in order, packing whole units into transactions of at most 100 actions (the
    /// Table limit). The first transaction holds the row whose ETag guards the change, so a stale
    /// writer fails before anything is written; a later transaction failing leaves a prefix of
    /// complete units, each with its events, which a retry of the request completes.
    /// </summary>
    /// <summary>Removes memberships, each with its event, in as few transactions as they fit.</summary>
    public Task<SaveOutcome> RemoveMembershipsAsync(DirectoryId id, IReadOnlyList<(Membership Membership, EventRecord? Event)> memberships,
        CancellationToken cancellationToken) =>
        CommitAsync(id, memberships.Select(m => MembershipRemoval(id, m.Membership, m.Event)).ToList(), cancellationToken);

    /// <summary>The directories of a tenant: a filter over the directory rows (one per partition).</summary>
    public async Task<IReadOnlyList<DirectoryRecord>> ListDirectoriesOfTenantAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
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
        var table = await TableAsync(cancellationToken);
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>($"PartitionKey eq '{TableKey.Quote(id.Value)}'", select: ["RowKey"],
                           cancellationToken: cancellationToken))
            keys.Add(row.RowKey);
        var ordered = keys.Where(k => k != DirectoryRecord.RowKey).Append(DirectoryRecord.RowKey).Where(keys.Contains).ToList();
        foreach (var chunk in ordered.Chunk(100))
        {
            try
            {
                await table.SubmitTransactionAsync(chunk.Select(k =>
                    new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(id.Value, k), ETag.All)), cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status == 404)
            {
                // A concurrent purge removed some rows first; the next delivery finishes the rest.
                throw new InvalidOperationException("The directory changed during its purge; retry.", e);
            }
        }
        _credentials.InvalidateWhere(key => key.Directory == id);
        return ordered.Count;
    }

    private async Task<SaveOutcome> CommitAsync(DirectoryId id, IReadOnlyList<WriteUnit> units, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var batches = new List<(List<TableTransactionAction> Actions, List<EventRecord> Events)>();
        var current = (Actions: new List<TableTransactionAction>(), Events: new List<EventRecord>());
        foreach (var unit in units)
        {
            var size = unit.Actions.Count + unit.Events.Count;
            if (current.Actions.Count + size > 100 && current.Actions.Count > 0)
            {
                batches.Add(current);
                current = (new List<TableTransactionAction>(), new List<EventRecord>());
            }
            current.Actions.AddRange(unit.Actions);
            current.Actions.AddRange(unit.Events.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e.ToOutboxEntity(id.Value))));
            current.Events.AddRange(unit.Events);
        }
        if (current.Actions.Count > 0) batches.Add(current);

        var committed = new List<EventRecord>();
        var outcome = SaveOutcome.Saved;
        foreach (var batch in batches)
        {
            try
            {
                await table.SubmitTransactionAsync(batch.Actions, cancellationToken);
                committed.AddRange(batch.Events);
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412 or 404)
            {
                outcome = e.Status switch { 409 => SaveOutcome.AlreadyExists, 404 => SaveOutcome.NotFound, _ => SaveOutcome.Stale };
                break;
            }
        }
        // Committed: the answer is the success answer. The feed copies, the enqueue and the outbox
        // deletes happen after it, off the request path; the outbox rows are the guarantee.
        publisher.Post(TableName, id.Value, committed);
        return outcome;
    }
}
