using System.Text.Json.Nodes;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// Whole-state changes of a directory's users and groups for a directory this service pulls: "the
/// user is now this", "the group now has these members". Each is composed of the same store writes,
/// events and role changes as the SCIM endpoints' (a change and its events in one transaction),
/// read-change-save under the row's ETag, retried when another writer won.
/// </summary>
public static class DirectoryChanges
{
    public enum Outcome { Unchanged, Created, Updated, Deprovisioned, Deleted, Refused }

    private const int MaxAttempts = 5;

    /// <summary>Creates the user, changes it to <paramref name="resource"/>, or gives a deprovisioned user its place back.</summary>
    public static async Task<Outcome> PutUserAsync(DirectoryStore store, DirectoryRecord directory, TenantSettings settings, string userId,
        JsonObject resource, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var before = await store.FindUserAsync(directory.Id, userId, cancellationToken);
            if (before is null)
            {
                var user = new DirectoryUser(directory.Id, userId, resource.DeepClone().AsObject(), 1, now, now);
                switch (await store.CreateUserAsync(user, [DirectoryEvents.Create(directory, DirectoryEvents.UserCreated, now, DirectoryEvents.UserData(user))],
                            cancellationToken))
                {
                    case SaveOutcome.Saved: return Outcome.Created;
                    case SaveOutcome.AlreadyExists when await store.FindUserAsync(directory.Id, userId, cancellationToken) is null:
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
                saved = await store.RestoreUserAsync(before, after, events, cancellationToken);
            }
            else
            {
                var events = DirectoryEvents.UserChanged(directory, before, after, now);
                if (await RoleChanges.ForUserChangeAsync(store, directory, settings, before, after, now, cancellationToken) is { } roleChanged)
                    events.Add(roleChanged);
                var renamed = before.UserName != after.UserName;
                var memberships = renamed ? await store.ListMembershipsOfMemberAsync(directory.Id, userId, cancellationToken) : [];
                saved = await store.ReplaceUserAsync(before, after, events,
                    memberships.Select(m => DirectoryStore.MemberDisplayChange(directory.Id, m, after.UserName)).ToList(), cancellationToken);
                if (saved == SaveOutcome.Saved && renamed)
                    await store.RefreshMemberDisplaysAsync(directory.Id, userId, memberships.Select(m => m.GroupId).ToHashSet(), cancellationToken);
            }
            if (saved == SaveOutcome.Saved) return Outcome.Updated;
            if (saved == SaveOutcome.AlreadyExists) return Outcome.Refused;
        }
        throw new InvalidOperationException("The user kept changing while it was synced; retry.");
    }

    /// <summary>Deprovisions the user as a SCIM DELETE does: the row stays, marked deleted, and its memberships go with their events.</summary>
    public static async Task<Outcome> DeprovisionUserAsync(DirectoryStore store, DirectoryRecord directory, string userId, string reason,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await store.FindUserAsync(directory.Id, userId, cancellationToken) is not { Deleted: false } before) return Outcome.Unchanged;
            var after = before with { Deleted = true, Version = before.Version + 1, LastModified = now };
            List<EventRecord> events = [DirectoryEvents.Deprovisioned(directory, after, reason, now)];
            var memberships = new List<(Membership, EventRecord)>();
            foreach (var groupId in await store.ListGroupIdsOfMemberAsync(directory.Id, userId, cancellationToken))
            {
                var membership = await store.FindMembershipAsync(directory.Id, groupId, userId, cancellationToken);
                var group = await store.FindGroupAsync(directory.Id, groupId, cancellationToken);
                if (membership is null || group is null) continue;
                memberships.Add((membership, DirectoryEvents.Membership(directory, DirectoryEvents.GroupUserRemoved, now, group, userId, before.UserName)));
            }
            if (await store.DeleteUserAsync(before, after, events, memberships, cancellationToken) == SaveOutcome.Saved) return Outcome.Deprovisioned;
        }
        throw new InvalidOperationException("The user kept changing while it was deprovisioned; retry.");
    }

    /// <summary>
    /// Creates the group or changes it to <paramref name="attributes"/> with exactly the direct members
    /// <paramref name="memberUserIds"/> (users the directory holds and has not deprovisioned; others are skipped).
    /// </summary>
    public static async Task<Outcome> PutGroupAsync(DirectoryStore store, DirectoryRecord directory, TenantSettings settings, string groupId,
        JsonObject attributes, IReadOnlyCollection<string> memberUserIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var before = await store.FindGroupAsync(directory.Id, groupId, cancellationToken);
            var current = before is null ? [] : await store.ListMembersAsync(directory.Id, groupId, cancellationToken);
            var wanted = memberUserIds.ToHashSet(StringComparer.Ordinal);
            var toRemove = current.Where(m => !wanted.Contains(m.MemberId)).ToList();
            var toAdd = new List<Membership>();
            foreach (var userId in wanted.Where(id => current.All(m => m.MemberId != id)))
                if (await store.FindUserAsync(directory.Id, userId, cancellationToken) is { Deleted: false } user)
                    toAdd.Add(new Membership(groupId, userId, user.UserName));

            if (before is not null && JsonNode.DeepEquals(before.Resource, attributes) && toAdd.Count == 0 && toRemove.Count == 0)
                return Outcome.Unchanged;
            var after = before is null
                ? new DirectoryGroup(directory.Id, groupId, attributes.DeepClone().AsObject(), 1, now, now)
                : before with { Resource = attributes.DeepClone().AsObject(), Version = before.Version + 1, LastModified = now, MembersRevision = null };
            List<EventRecord> events = before is null
                ? [DirectoryEvents.Create(directory, DirectoryEvents.GroupCreated, now, DirectoryEvents.GroupData(after))]
                : JsonNode.DeepEquals(before.Resource, attributes) ? [] : [DirectoryEvents.Create(directory, DirectoryEvents.GroupUpdated, now, DirectoryEvents.GroupData(after))];
            var units = new List<DirectoryStore.WriteUnit>();
            units.AddRange(toRemove.Select(m => DirectoryStore.MembershipRemoval(directory.Id, m,
                DirectoryEvents.Membership(directory, DirectoryEvents.GroupUserRemoved, now, after, m.MemberId, m.MemberUserName))));
            units.AddRange(toAdd.Select(m => DirectoryStore.MembershipAddition(directory.Id, m,
                DirectoryEvents.Membership(directory, DirectoryEvents.GroupUserAdded, now, after, m.MemberId, m.MemberUserName))));
            var renamed = before is not null && before.DisplayName != after.DisplayName;
            var unchanged = renamed ? current.Select(m => m.MemberId).Except(toRemove.Select(m => m.MemberId)).ToList() : [];
            var roleChanges = await RoleChanges.ForGroupChangeAsync(store, directory, settings, groupId, before?.DisplayName, after.DisplayName,
                toAdd.Select(m => m.MemberId).ToList(), toRemove.Select(m => m.MemberId).ToList(), unchanged, now, cancellationToken);
            AttachRoleChanges(roleChanges, [.. toRemove, .. toAdd], units, events);

            var saved = before is null
                ? await store.CreateGroupAsync(after, events, units, cancellationToken)
                : await store.SaveGroupAsync(before, after, events, units, cancellationToken);
            if (saved == SaveOutcome.Saved)
            {
                // A few at a time: a group of thousands must not put thousands of reads in flight at once.
                await Parallel.ForEachAsync(toAdd, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                    async (m, token) => await store.RefreshAddedMemberDisplayAsync(directory.Id, m, token));
                return before is null ? Outcome.Created : Outcome.Updated;
            }
            // Stale, or a member renamed or deprovisioned between its read and the commit: read again.
        }
        throw new InvalidOperationException("The group kept changing while it was synced; retry.");
    }

    /// <summary>Deletes the group as a SCIM DELETE does: tombstoned with its event; the memberships go in the deleted event's fan-out.</summary>
    public static async Task<Outcome> DeleteGroupAsync(DirectoryStore store, DirectoryRecord directory, string groupId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (await store.FindGroupAsync(directory.Id, groupId, cancellationToken) is not { } group) return Outcome.Unchanged;
            List<EventRecord> events = [DirectoryEvents.Create(directory, DirectoryEvents.GroupDeleted, now, DirectoryEvents.GroupData(group))];
            if (await store.DeleteGroupAsync(group, events, now, cancellationToken) == SaveOutcome.Saved) return Outcome.Deleted;
        }
        throw new InvalidOperationException("The group kept changing while it was deleted; retry.");
    }

    /// <summary>A role change rides in the unit of the membership row that caused it, else with the group row.</summary>
    public static void AttachRoleChanges(Dictionary<string, EventRecord> roleChanges, IReadOnlyList<Membership> memberships,
        List<DirectoryStore.WriteUnit> units, List<EventRecord> groupEvents)
    {
        foreach (var (userId, roleChanged) in roleChanges)
        {
            var index = memberships.ToList().FindIndex(m => m.MemberId == userId);
            if (index >= 0 && index < units.Count) units[index].Events.Add(roleChanged);
            else groupEvents.Add(roleChanged);
        }
    }
}
