using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// A directory's users (<c>user|</c>) in its partition of table "directory", with their unique
/// index rows (<c>userName|</c>, which carries a copy of the user, and <c>externalId|</c>) and the
/// sign-in index rows (<c>signIn|</c>). A change, its index rows and its events commit in one
/// transaction (<see cref="DirectoryPartitionWriter"/>).
/// </summary>
public sealed class DirectoryUserStore(DirectoryPartitionWriter writer, DirectoryRecordStore directories)
{
    public static string UserNameKey(string userName) => TableKey.Row("userName", userName.ToLowerInvariant());

    public static string ExternalIdKey(string externalId) => TableKey.Row("externalId", externalId);

    public async Task<DirectoryUser?> FindUserAsync(DirectoryId id, string userId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(TableKey.Row(DirectoryUser.Kind, userId))) return null;
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row(DirectoryUser.Kind, userId), cancellationToken: cancellationToken);
        return row.HasValue ? DirectoryUser.FromEntity(row.Value!) : null;
    }

    /// <summary>A point read of an index row (<see cref="UserNameKey"/>, <see cref="ExternalIdKey"/>), then of the user.</summary>
    public async Task<DirectoryUser?> FindUserByIndexAsync(DirectoryId id, string indexRowKey, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(indexRowKey)) return null;
        var table = await writer.TableAsync(cancellationToken);
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
        var table = await writer.TableAsync(cancellationToken);
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
    internal static TableTransactionAction MarkInGroups(DirectoryId id, string userName) =>
        new(TableTransactionActionType.UpdateMerge, new TableEntity(id.Value, UserNameKey(userName)) { [InGroupsProperty] = true }, ETag.All);

    public async Task<bool> IndexExistsAsync(DirectoryId id, string indexRowKey, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
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
    /// <see cref="DirectoryRecordStore.DirectoryListCacheFor"/>), and in each
    /// directory the userName index row and the sign-in index rows side by side, never a scan.
    /// </summary>
    public async Task<IReadOnlyList<DirectoryUser>> FindSignInCandidatesAsync(TenantId tenantId, string email, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var prefix = TableKey.Row("signIn", email.ToLowerInvariant()) + "|";
        if (!TableKey.FitsInKey(prefix + "x")) return [];
        var directoryIds = await directories.ListDirectoryIdsCachedAsync(tenantId, cancellationToken);
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

    public Task<SaveOutcome> CreateUserAsync(DirectoryUser user, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        var unit = new WriteUnit([new(TableTransactionActionType.Add, user.ToEntity()), .. UserIndexAdds(user), .. SignInChanges(null, user)], events.ToList());
        return writer.CommitAsync(user.DirectoryId, [unit], cancellationToken);
    }

    /// <summary>
    /// New users, each with its index rows and events as one unit, packed whole into transactions of
    /// at most 100 actions, <paramref name="parallelism"/> transactions at a time: a user is still
    /// written all at once or not at all. Returns the users of the transactions that did not commit
    /// (one of their users collided: its id or userName was taken meanwhile), for the caller to
    /// write one by one.
    /// </summary>
    public async Task<IReadOnlyList<DirectoryUser>> CreateUsersAsync(DirectoryId id, IReadOnlyList<(DirectoryUser User, IReadOnlyList<EventRecord> Events)> created,
        int parallelism, CancellationToken cancellationToken)
    {
        var transactions = new List<List<(DirectoryUser User, WriteUnit Unit)>>();
        var size = 0;
        foreach (var (user, events) in created)
        {
            var unit = new WriteUnit([new(TableTransactionActionType.Add, user.ToEntity()), .. UserIndexAdds(user), .. SignInChanges(null, user)], events.ToList());
            var unitSize = unit.Actions.Count + unit.Events.Count;
            if (transactions.Count == 0 || size + unitSize > 100)
            {
                transactions.Add([]);
                size = 0;
            }
            transactions[^1].Add((user, unit));
            size += unitSize;
        }
        var failed = new System.Collections.Concurrent.ConcurrentBag<DirectoryUser>();
        await Parallel.ForEachAsync(transactions, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (transaction, token) =>
            {
                if (await writer.CommitAsync(id, transaction.Select(t => t.Unit).ToList(), token) != SaveOutcome.Saved)
                    foreach (var (user, _) in transaction) failed.Add(user);
            });
        return failed.ToList();
    }

    public Task<SaveOutcome> ReplaceUserAsync(DirectoryUser before, DirectoryUser after, IReadOnlyList<EventRecord> events,
        CancellationToken cancellationToken) => ReplaceUserAsync(before, after, events, [], cancellationToken);

    /// <summary>
    /// Saves a user change; <paramref name="memberships"/> (e.g. <see cref="DirectoryGroupStore.MemberDisplayChange"/> after a
    /// rename) commit after the user row, in its transaction while they fit in 100 actions.
    /// </summary>
    public Task<SaveOutcome> ReplaceUserAsync(DirectoryUser before, DirectoryUser after, IReadOnlyList<EventRecord> events,
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
        return writer.CommitAsync(after.DirectoryId, [new WriteUnit(actions, events.ToList()), .. memberships], cancellationToken);
    }

    /// <summary>
    /// Deprovisions a deleted user: the row stays (marked deleted) for the management API, its index
    /// rows go so the IdP may create the userName again (a sign-in row for the userName takes the
    /// place of its index row), and its memberships go with their events.
    /// </summary>
    public Task<SaveOutcome> DeleteUserAsync(DirectoryUser before, DirectoryUser after, IReadOnlyList<EventRecord> events,
        IReadOnlyList<(Membership Membership, EventRecord Event)> memberships, CancellationToken cancellationToken)
    {
        List<WriteUnit> units =
        [
            new([new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag), .. UserIndexDeletes(before), .. SignInChanges(before, after)],
                events.ToList()),
        ];
        units.AddRange(memberships.Select(m => DirectoryGroupStore.MembershipRemoval(after.DirectoryId, m.Membership, m.Event)));
        return writer.CommitAsync(after.DirectoryId, units, cancellationToken);
    }

    /// <summary>
    /// Gives a deprovisioned (deleted) user back its place: the row un-deleted and its index rows
    /// added again, with its events. <see cref="SaveOutcome.AlreadyExists"/> when another user took
    /// its userName meanwhile.
    /// </summary>
    public Task<SaveOutcome> RestoreUserAsync(DirectoryUser before, DirectoryUser after, IReadOnlyList<EventRecord> events,
        CancellationToken cancellationToken)
    {
        var unit = new WriteUnit([new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag), .. UserIndexAdds(after),
            .. SignInChanges(before, after)], events.ToList());
        return writer.CommitAsync(after.DirectoryId, [unit], cancellationToken);
    }

    public async IAsyncEnumerable<DirectoryUser> QueryUsersAsync(DirectoryId id, bool includeDeleted,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryUser.Kind), cancellationToken: cancellationToken))
        {
            var user = DirectoryUser.FromEntity(row);
            if (includeDeleted || !user.Deleted) yield return user;
        }
    }

    /// <summary>Every live user's id → userName, in one range read of the user rows projected to those columns.</summary>
    public async Task<IReadOnlyDictionary<string, string>> ListLiveUserNamesAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryUser.Kind), select: ["RowKey", "UserName", "Deleted"],
                           cancellationToken: cancellationToken))
            if (row.GetBoolean("Deleted") != true)
                names[TableKey.Unescape(row.RowKey[(DirectoryUser.Kind.Length + 1)..])] = row.GetString("UserName") ?? "";
        return names;
    }

    public async Task<(IReadOnlyList<DirectoryUser> Users, string? NextCursor)> ListUsersPageAsync(DirectoryId id, string? cursor, int limit,
        CancellationToken cancellationToken) =>
        await writer.PageOfKindAsync(id, DirectoryUser.Kind, DirectoryUser.FromEntity, cursor, limit, cancellationToken);

    /// <summary>The directory's users that are neither deleted nor deactivated (a scan of its user rows).</summary>
    public async Task<int> CountActiveUsersAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var active = 0;
        var table = await writer.TableAsync(cancellationToken);
        await foreach (var user in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryUser.Kind),
                           select: ["Active", "Deleted"], cancellationToken: cancellationToken))
            if (user.GetBoolean("Deleted") != true && user.GetBoolean("Active") != false) active++;
        return active;
    }
}
