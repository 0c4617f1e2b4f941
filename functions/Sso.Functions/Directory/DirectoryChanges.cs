using System.Text.Json.Nodes;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Protocols;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// The changes of a directory's users and groups, one implementation for every way in: the SCIM
/// endpoints (an IdP pushes) and the sync of a pulled directory (whole states: "the user is now
/// this", "the group now has these members"). Each is a read-change-save under the row's ETag: the
/// change, its index rows and its events in one transaction, retried when another writer won.
/// Results are typed; the SCIM endpoints map them to SCIM answers.
/// </summary>
public sealed class DirectoryChanges(DirectoryUserStore users, DirectoryGroupStore groups, TimeProvider clock)
{
    public enum Outcome { Unchanged, Created, Updated, Deprovisioned, Deleted, Refused }

    /// <summary>How a change is retried when another writer won: how often, and whether it waits a little in between.</summary>
    public sealed record Retry(int MaxAttempts, bool BackOff)
    {
        /// <summary>The sync of a pulled directory: a few attempts at once, then the task fails and is redelivered.</summary>
        public static readonly Retry Sync = new(5, false);

        /// <summary>A short random wait that grows with the attempt, so writers racing on one row spread out.</summary>
        public static Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
            Task.Delay(Random.Shared.Next(1, Math.Min(100, 5 + attempt * 5)), cancellationToken);
    }

    /// <summary>What a change of one user or group came to.</summary>
    public enum ChangeStatus { Done, Unchanged, NotFound, PreconditionFailed, Invalid, Taken, GaveUp }

    /// <summary>
    /// <paramref name="User"/>: the user as saved (Done) or as it stands (Unchanged); <paramref name="Error"/>:
    /// the change's own refusal (Invalid); <paramref name="TakenAttribute"/>: the unique attribute another
    /// user of the directory holds (Taken: <c>userName</c> or <c>externalId</c>).
    /// </summary>
    public sealed record UserChange<TError>(ChangeStatus Status, DirectoryUser? User = null, TError? Error = default, string? TakenAttribute = null);

    // ---- users ----

    /// <summary>A new user with a fresh id; the error names the unique attribute (<c>userName</c>, <c>externalId</c>) another user holds.</summary>
    public async Task<Result<DirectoryUser, string>> CreateUserAsync(DirectoryRecord directory, JsonObject resource, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var user = new DirectoryUser(directory.Id, Ids.New(DirectoryUser.IdPrefix), resource, 1, now, now);
        return await CreateOnceAsync(directory, user, cancellationToken) == SaveOutcome.Saved
            ? user
            : await TakenAttributeAsync(directory, user, cancellationToken);
    }

    /// <summary>
    /// Changes a live user: <paramref name="change"/> gives the new resource (or refuses) from the one
    /// stored; <paramref name="precondition"/> (the client's If-Match) must hold for the user as read.
    /// </summary>
    public async Task<UserChange<TError>> UpdateUserAsync<TError>(DirectoryRecord directory, TenantSettings settings, string userId,
        Func<DirectoryUser, bool> precondition, Func<JsonObject, Result<JsonObject, TError>> change, Retry retry, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < retry.MaxAttempts; attempt++)
        {
            if (await users.FindUserAsync(directory.Id, userId, cancellationToken) is not { Deleted: false } before) return new(ChangeStatus.NotFound);
            if (!precondition(before)) return new(ChangeStatus.PreconditionFailed);
            var changed = change(before.Resource);
            if (!changed.IsSuccess) return new(ChangeStatus.Invalid, Error: changed.Error);
            // Okta and Entra ID repeat unchanged values; nothing changes, nothing is written.
            if (JsonNode.DeepEquals(changed.Value, before.Resource)) return new(ChangeStatus.Unchanged, before);

            var after = before with { Resource = changed.Value, Version = before.Version + 1, LastModified = clock.GetUtcNow() };
            switch (await ReplaceOnceAsync(directory, settings, before, after, cancellationToken))
            {
                case SaveOutcome.Saved: return new(ChangeStatus.Done, after with { ETag = default });
                case SaveOutcome.AlreadyExists: return new(ChangeStatus.Taken, TakenAttribute: await TakenAttributeAsync(directory, after, cancellationToken));
            }
            if (retry.BackOff) await Retry.BackOffAsync(attempt, cancellationToken);
        }
        return new(ChangeStatus.GaveUp);
    }

    /// <summary>Creates the user, changes it to <paramref name="resource"/>, or gives a deprovisioned user its place back.</summary>
    public async Task<Outcome> PutUserAsync(DirectoryRecord directory, TenantSettings settings, string userId, JsonObject resource,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Retry.Sync.MaxAttempts; attempt++)
        {
            var now = clock.GetUtcNow();
            var before = await users.FindUserAsync(directory.Id, userId, cancellationToken);
            if (before is null)
            {
                switch (await CreateOnceAsync(directory, new DirectoryUser(directory.Id, userId, resource.DeepClone().AsObject(), 1, now, now), cancellationToken))
                {
                    case SaveOutcome.Saved: return Outcome.Created;
                    case SaveOutcome.AlreadyExists when await users.FindUserAsync(directory.Id, userId, cancellationToken) is null:
                        return Outcome.Refused;   // another user of the directory holds the userName
                }
                continue;
            }
            if (!before.Deleted && JsonNode.DeepEquals(before.Resource, resource)) return Outcome.Unchanged;

            var after = before with { Resource = resource.DeepClone().AsObject(), Version = before.Version + 1, LastModified = now, Deleted = false };
            SaveOutcome saved;
            if (before.Deleted)
            {
                List<EventRecord> events = [DirectoryEvents.Create(directory, DirectoryEvents.UserUpdated, now, DirectoryEvents.UserData(after))];
                if (after.State == UserState.Active) events.Add(DirectoryEvents.Create(directory, DirectoryEvents.UserReactivated, now, DirectoryEvents.UserData(after)));
                saved = await users.RestoreUserAsync(before, after, events, cancellationToken);
            }
            else
            {
                saved = await ReplaceOnceAsync(directory, settings, before, after, cancellationToken);
            }
            if (saved == SaveOutcome.Saved) return Outcome.Updated;
            if (saved == SaveOutcome.AlreadyExists) return Outcome.Refused;
        }
        throw new InvalidOperationException("The user kept changing while it was synced; retry.");
    }

    /// <summary>
    /// <see cref="PutUserAsync"/> for every user of a pulled directory's page: each read once,
    /// <paramref name="parallelism"/> at a time; the unchanged ones left alone; the new ones created
    /// many to a transaction (<see cref="DirectoryUserStore.CreateUsersAsync"/>), each with its index rows
    /// and its <c>dsync.user.created</c>; the changed ones, and the new ones whose transaction did not
    /// commit, put one by one. The outcomes are in the order of <paramref name="listed"/>.
    /// </summary>
    public async Task<IReadOnlyList<Outcome>> PutUsersAsync(DirectoryRecord directory, TenantSettings settings,
        IReadOnlyList<(string Id, JsonObject Resource)> listed, int parallelism, CancellationToken cancellationToken)
    {
        var outcomes = new Outcome[listed.Count];
        var stored = new DirectoryUser?[listed.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, listed.Count), options,
            async (i, token) => stored[i] = await users.FindUserAsync(directory.Id, listed[i].Id, token));
        var now = clock.GetUtcNow();
        var created = new List<(DirectoryUser User, IReadOnlyList<EventRecord> Events)>();
        var oneByOne = new List<int>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < listed.Count; i++)
        {
            index[listed[i].Id] = i;
            if (stored[i] is null)
            {
                var user = new DirectoryUser(directory.Id, listed[i].Id, listed[i].Resource.DeepClone().AsObject(), 1, now, now);
                created.Add((user, [DirectoryEvents.Create(directory, DirectoryEvents.UserCreated, now, DirectoryEvents.UserData(user))]));
                outcomes[i] = Outcome.Created;
            }
            else if (!stored[i]!.Deleted && JsonNode.DeepEquals(stored[i]!.Resource, listed[i].Resource))
            {
                outcomes[i] = Outcome.Unchanged;
            }
            else
            {
                oneByOne.Add(i);
            }
        }
        // A transaction of up to 100 actions is a large request: a quarter as many in flight as point reads.
        foreach (var failed in await users.CreateUsersAsync(directory.Id, created, Math.Max(1, parallelism / 4), cancellationToken))
            oneByOne.Add(index[failed.Id]);
        await Parallel.ForEachAsync(oneByOne, options,
            async (i, token) => outcomes[i] = await PutUserAsync(directory, settings, listed[i].Id, listed[i].Resource, token));
        return outcomes;
    }

    /// <summary>
    /// Deprovisions a live user (a SCIM DELETE, or a user gone from a pulled directory): the row
    /// stays, marked deleted, and its memberships go with their events.
    /// </summary>
    public async Task<ChangeStatus> DeprovisionUserAsync(DirectoryRecord directory, string userId, string reason, Func<DirectoryUser, bool> precondition,
        Retry retry, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < retry.MaxAttempts; attempt++)
        {
            if (await users.FindUserAsync(directory.Id, userId, cancellationToken) is not { Deleted: false } before) return ChangeStatus.NotFound;
            if (!precondition(before)) return ChangeStatus.PreconditionFailed;
            var now = clock.GetUtcNow();
            var after = before with { Deleted = true, Version = before.Version + 1, LastModified = now };
            List<EventRecord> events = [DirectoryEvents.Deprovisioned(directory, after, reason, now)];
            var memberships = new List<(Membership, EventRecord)>();
            foreach (var groupId in await groups.ListGroupIdsOfMemberAsync(directory.Id, userId, cancellationToken))
            {
                var membership = await groups.FindMembershipAsync(directory.Id, groupId, userId, cancellationToken);
                var group = await groups.FindGroupAsync(directory.Id, groupId, cancellationToken);
                if (membership is null || group is null) continue;
                memberships.Add((membership, DirectoryEvents.Membership(directory, DirectoryEvents.GroupUserRemoved, now, group, userId, before.UserName)));
            }
            if (await users.DeleteUserAsync(before, after, events, memberships, cancellationToken) == SaveOutcome.Saved) return ChangeStatus.Done;
            if (retry.BackOff) await Retry.BackOffAsync(attempt, cancellationToken);
        }
        return ChangeStatus.GaveUp;
    }

    /// <summary>The pulled directory's deprovisioning of a user it no longer lists.</summary>
    public async Task<Outcome> DeprovisionUserAsync(DirectoryRecord directory, string userId, string reason, CancellationToken cancellationToken) =>
        await DeprovisionUserAsync(directory, userId, reason, _ => true, Retry.Sync, cancellationToken) switch
        {
            ChangeStatus.Done => Outcome.Deprovisioned,
            ChangeStatus.NotFound => Outcome.Unchanged,
            _ => throw new InvalidOperationException("The user kept changing while it was deprovisioned; retry."),
        };

    private Task<SaveOutcome> CreateOnceAsync(DirectoryRecord directory, DirectoryUser user, CancellationToken cancellationToken) =>
        users.CreateUserAsync(user, [DirectoryEvents.Create(directory, DirectoryEvents.UserCreated, user.Created, DirectoryEvents.UserData(user))],
            cancellationToken);

    /// <summary>
    /// One attempt at saving a live user's change with its events and role change. A group member's
    /// display is its userName: a rename changes the user's member rows in the user's transaction
    /// (while they fit in its 100 actions), and those inserted meanwhile after it.
    /// </summary>
    private async Task<SaveOutcome> ReplaceOnceAsync(DirectoryRecord directory, TenantSettings settings, DirectoryUser before, DirectoryUser after,
        CancellationToken cancellationToken)
    {
        var now = after.LastModified;
        var events = DirectoryEvents.UserChanged(directory, before, after, now);
        if (await RoleChanges.ForUserChangeAsync(groups, directory, settings, before, after, now, cancellationToken) is { } roleChanged)
            events.Add(roleChanged);
        var renamed = before.UserName != after.UserName;
        var memberships = renamed ? await groups.ListMembershipsOfMemberAsync(directory.Id, after.Id, cancellationToken) : [];
        var saved = await users.ReplaceUserAsync(before, after, events,
            memberships.Select(m => DirectoryGroupStore.MemberDisplayChange(directory.Id, m, after.UserName)).ToList(), cancellationToken);
        if (saved == SaveOutcome.Saved && renamed)
            await groups.RefreshMemberDisplaysAsync(directory.Id, after.Id, memberships.Select(m => m.GroupId).ToHashSet(), cancellationToken);
        return saved;
    }

    /// <summary>Which unique attribute made a user's write fail: its externalId when its userName is free, else its userName.</summary>
    private async Task<string> TakenAttributeAsync(DirectoryRecord directory, DirectoryUser user, CancellationToken cancellationToken) =>
        user.ExternalId is { Length: > 0 } externalId
        && !await users.IndexExistsAsync(directory.Id, DirectoryUserStore.UserNameKey(user.UserName), cancellationToken)
        && await users.IndexExistsAsync(directory.Id, DirectoryUserStore.ExternalIdKey(externalId), cancellationToken)
            ? "externalId"
            : "userName";

    // ---- groups ----

    /// <summary>
    /// Creates the group or changes it to <paramref name="attributes"/> with exactly the direct members
    /// <paramref name="memberUserIds"/> (users the directory holds and has not deprovisioned; others are skipped).
    /// </summary>
    public async Task<Outcome> PutGroupAsync(DirectoryRecord directory, TenantSettings settings, string groupId,
        JsonObject attributes, IReadOnlyCollection<string> memberUserIds, CancellationToken cancellationToken)
    {
        var added = new List<Membership>();
        var outcome = await PutGroupOnceAsync(directory, settings, groupId, attributes, memberUserIds, null, added, cancellationToken);
        await RefreshAddedMemberDisplaysAsync(directory, added, cancellationToken);
        return outcome;
    }

    /// <summary>A group of a pulled directory's listing: its attributes and its direct members' user ids.</summary>
    public sealed record ListedGroup(string Id, JsonObject Attributes, IReadOnlyCollection<string> MemberUserIds);

    /// <summary>A group that adds at least this many members reads the userNames of every live user at once (<see cref="LiveUserNames"/>).</summary>
    public const int ManyMembers = 50;

    /// <summary>
    /// <see cref="PutGroupAsync"/> for every group of a pulled directory's page, <paramref name="parallelism"/> at
    /// a time. A group that adds many members (<see cref="ManyMembers"/>) takes their userNames from one
    /// listing of the directory's live users (<see cref="LiveUserNames"/>), read once for the page, not a
    /// point read each; and the added members' names are checked again once after every group committed
    /// (a second listing) rather than one read each.
    /// </summary>
    public async Task<IReadOnlyList<Outcome>> PutGroupsAsync(DirectoryRecord directory, TenantSettings settings, IReadOnlyList<ListedGroup> listed,
        int parallelism, CancellationToken cancellationToken)
    {
        var names = new LiveUserNames(users, directory.Id);
        var outcomes = new Outcome[listed.Count];
        var added = new List<Membership>[listed.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, listed.Count),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                added[i] = [];
                outcomes[i] = await PutGroupOnceAsync(directory, settings, listed[i].Id, listed[i].Attributes, listed[i].MemberUserIds, names,
                    added[i], token);
            });
        var all = added.SelectMany(a => a).ToList();
        if (all.Count < ManyMembers)
        {
            await RefreshAddedMemberDisplaysAsync(directory, all, cancellationToken);
            return outcomes;
        }
        // Read after every commit: a rename that committed before it is seen here, one after it
        // sees these member rows (DirectoryGroupStore's member display).
        var now = await users.ListLiveUserNamesAsync(directory.Id, cancellationToken);
        await RefreshAddedMemberDisplaysAsync(directory,
            all.Where(m => now.TryGetValue(m.MemberId, out var name) && name != m.MemberUserName).ToList(), cancellationToken);
        return outcomes;
    }

    /// <summary>
    /// The userNames of a directory's live users, read on first use in one range read of the user rows
    /// projected to their userName. A name taken from here is checked at the commit as a point read's
    /// is: the membership's merge into the user's userName index row fails when the user was renamed
    /// or deprovisioned since, and the group is read again, point by point.
    /// </summary>
    public sealed class LiveUserNames(DirectoryUserStore users, DirectoryId directoryId)
    {
        private readonly Lazy<Task<IReadOnlyDictionary<string, string>>> _names = new(() => users.ListLiveUserNamesAsync(directoryId, CancellationToken.None));

        public Task<IReadOnlyDictionary<string, string>> GetAsync(CancellationToken cancellationToken) => _names.Value.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// One group's put, without the display check of the members it added (<paramref name="added"/>: the
    /// caller's to do). <paramref name="names"/>: where a first attempt that adds many members takes their userNames.
    /// </summary>
    private async Task<Outcome> PutGroupOnceAsync(DirectoryRecord directory, TenantSettings settings, string groupId,
        JsonObject attributes, IReadOnlyCollection<string> memberUserIds, LiveUserNames? names, List<Membership> added, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Retry.Sync.MaxAttempts; attempt++)
        {
            var now = clock.GetUtcNow();
            var before = await groups.FindGroupAsync(directory.Id, groupId, cancellationToken);
            var current = before is null ? [] : await groups.ListMembersAsync(directory.Id, groupId, cancellationToken);
            var wanted = memberUserIds.ToHashSet(StringComparer.Ordinal);
            var toRemove = current.Where(m => !wanted.Contains(m.MemberId)).ToList();
            var currentIds = current.Select(m => m.MemberId).ToHashSet(StringComparer.Ordinal);
            var candidates = wanted.Where(id => !currentIds.Contains(id)).ToList();
            var toAdd = new List<Membership>();
            if (attempt == 0 && names is not null && candidates.Count >= ManyMembers)
            {
                var live = await names.GetAsync(cancellationToken);
                foreach (var userId in candidates)
                    if (live.TryGetValue(userId, out var userName))
                        toAdd.Add(new Membership(groupId, userId, userName));
            }
            else
            {
                foreach (var userId in candidates)
                    if (await users.FindUserAsync(directory.Id, userId, cancellationToken) is { Deleted: false } user)
                        toAdd.Add(new Membership(groupId, userId, user.UserName));
            }

            if (before is not null && JsonNode.DeepEquals(before.Resource, attributes) && toAdd.Count == 0 && toRemove.Count == 0)
                return Outcome.Unchanged;
            var after = before is null
                ? new DirectoryGroup(directory.Id, groupId, attributes.DeepClone().AsObject(), 1, now, now)
                : before with { Resource = attributes.DeepClone().AsObject(), Version = before.Version + 1, LastModified = now, MembersRevision = null };
            var (events, units) = await GroupChangeAsync(directory, settings, before, after, toRemove, toAdd, current, cancellationToken);
            var saved = before is null
                ? await groups.CreateGroupAsync(after, events, units, cancellationToken)
                : await groups.SaveGroupAsync(before, after, events, units, cancellationToken);
            if (saved == SaveOutcome.Saved)
            {
                added.AddRange(toAdd);
                return before is null ? Outcome.Created : Outcome.Updated;
            }
            // Stale, or a member renamed or deprovisioned between its read and the commit: read again.
        }
        throw new InvalidOperationException("The group kept changing while it was synced; retry.");
    }

    /// <summary>
    /// Deletes the group (a SCIM DELETE, or a group gone from a pulled directory): tombstoned with
    /// its event; the memberships go in the deleted event's fan-out.
    /// </summary>
    public async Task<ChangeStatus> DeleteGroupAsync(DirectoryRecord directory, string groupId, Func<DirectoryGroup, bool> precondition, Retry retry,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < retry.MaxAttempts; attempt++)
        {
            if (await groups.FindGroupAsync(directory.Id, groupId, cancellationToken) is not { } group) return ChangeStatus.NotFound;
            if (!precondition(group)) return ChangeStatus.PreconditionFailed;
            var now = clock.GetUtcNow();
            List<EventRecord> events = [DirectoryEvents.Create(directory, DirectoryEvents.GroupDeleted, now, DirectoryEvents.GroupData(group))];
            if (await groups.DeleteGroupAsync(group, events, now, cancellationToken) == SaveOutcome.Saved) return ChangeStatus.Done;
            if (retry.BackOff) await Retry.BackOffAsync(attempt, cancellationToken);
        }
        return ChangeStatus.GaveUp;
    }

    /// <summary>The pulled directory's deletion of a group it no longer lists.</summary>
    public async Task<Outcome> DeleteGroupAsync(DirectoryRecord directory, string groupId, CancellationToken cancellationToken) =>
        await DeleteGroupAsync(directory, groupId, _ => true, Retry.Sync, cancellationToken) switch
        {
            ChangeStatus.Done => Outcome.Deleted,
            ChangeStatus.NotFound => Outcome.Unchanged,
            _ => throw new InvalidOperationException("The group kept changing while it was deleted; retry."),
        };

    /// <summary>What a group change writes: the group's own events, and its membership units (removals first) with theirs.</summary>
    public sealed record GroupChange(List<EventRecord> Events, List<WriteUnit> Units)
    {
        public void Deconstruct(out List<EventRecord> events, out List<WriteUnit> units) => (events, units) = (Events, Units);
    }

    /// <summary>
    /// The events and membership units of a group change (<paramref name="before"/> null: a new
    /// group): created or updated when its attributes changed, each member removed and added, and
    /// the role changes it causes, each in the unit of the membership that caused it. A rename can
    /// change the role of every member: <paramref name="current"/> (null: read when needed) are the
    /// members before the change.
    /// </summary>
    public async Task<GroupChange> GroupChangeAsync(DirectoryRecord directory, TenantSettings settings, DirectoryGroup? before, DirectoryGroup after,
        IReadOnlyList<Membership> toRemove, IReadOnlyList<Membership> toAdd, IReadOnlyList<Membership>? current, CancellationToken cancellationToken)
    {
        var now = after.LastModified;
        List<EventRecord> events = before is null
            ? [DirectoryEvents.Create(directory, DirectoryEvents.GroupCreated, now, DirectoryEvents.GroupData(after))]
            : JsonNode.DeepEquals(before.Resource, after.Resource) ? [] : [DirectoryEvents.Create(directory, DirectoryEvents.GroupUpdated, now, DirectoryEvents.GroupData(after))];
        var units = MembershipUnits(directory, after, toRemove, toAdd, now);
        var renamed = before is not null && before.DisplayName != after.DisplayName;
        var unchanged = renamed
            ? (current ?? await groups.ListMembersAsync(directory.Id, after.Id, cancellationToken)).Select(m => m.MemberId)
                .Except(toRemove.Select(m => m.MemberId)).ToList()
            : [];
        var roleChanges = await RoleChanges.ForGroupChangeAsync(users, groups, directory, settings, after.Id, before?.DisplayName, after.DisplayName,
            toAdd.Select(m => m.MemberId).ToList(), toRemove.Select(m => m.MemberId).ToList(), unchanged, now, cancellationToken);
        AttachRoleChanges(roleChanges, [.. toRemove, .. toAdd], units, events);
        return new GroupChange(events, units);
    }

    /// <summary>The membership rows of a change, removals first, each with its removed/added event.</summary>
    private static List<WriteUnit> MembershipUnits(DirectoryRecord directory, DirectoryGroup after, IEnumerable<Membership> removed,
        IEnumerable<Membership> added, DateTimeOffset now)
    {
        var units = new List<WriteUnit>();
        units.AddRange(removed.Select(m => DirectoryGroupStore.MembershipRemoval(directory.Id, m,
            DirectoryEvents.Membership(directory, DirectoryEvents.GroupUserRemoved, now, after, m.MemberId, m.MemberUserName))));
        units.AddRange(added.Select(m => DirectoryGroupStore.MembershipAddition(directory.Id, m,
            DirectoryEvents.Membership(directory, DirectoryEvents.GroupUserAdded, now, after, m.MemberId, m.MemberUserName))));
        return units;
    }

    /// <summary>Members added after their names were read and renamed meanwhile: see <see cref="DirectoryGroupStore.RefreshAddedMemberDisplayAsync"/>.</summary>
    /// <summary>A few at a time: a group of thousands must not put thousands of reads in flight at once.</summary>
    public Task RefreshAddedMemberDisplaysAsync(DirectoryRecord directory, IReadOnlyList<Membership> added, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(added, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (m, token) => await groups.RefreshAddedMemberDisplayAsync(directory.Id, m, token));

    /// <summary>A role change rides in the unit of the membership row that caused it, else with the group row.</summary>
    private static void AttachRoleChanges(Dictionary<string, EventRecord> roleChanges, IReadOnlyList<Membership> memberships,
        List<WriteUnit> units, List<EventRecord> groupEvents)
    {
        foreach (var (userId, roleChanged) in roleChanges)
        {
            var index = memberships.ToList().FindIndex(m => m.MemberId == userId);
            if (index >= 0 && index < units.Count) units[index].Events.Add(roleChanged);
            else groupEvents.Add(roleChanged);
        }
    }
}
