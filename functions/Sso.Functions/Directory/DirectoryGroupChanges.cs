using System.Text.Json.Nodes;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Protocols;
using Sso.Protocols.Scim.Patch;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// The group changes an IdP pushes: a new group with its members, and a change of a group's
/// attributes and members (SCIM PUT and PATCH). Members are rows, never a list in the group row.
/// A member-only change is written as row inserts and deletes that do not wait on the group row's
/// ETag (<see cref="DirectoryGroupStore.ChangeMembersAsync"/>), so 50 IdP PATCHes at once all stick
/// without retrying each other. A change of attributes, and a replacement of the whole member list,
/// is written under the group row's ETag and retried when another writer moved the row, so a list
/// replacement never loses a parallel add. The caller's own refusals come back as
/// <typeparamref name="TError"/>; the SCIM endpoints map the rest to SCIM answers.
/// </summary>
public sealed class DirectoryGroupChanges(DirectoryUserStore users, DirectoryGroupStore groups, DirectoryChanges changes, TimeProvider clock)
{
    public enum Status { Done, Unchanged, NotFound, PreconditionFailed, Invalid, UnknownMembers, GaveUp }

    /// <summary>
    /// <paramref name="Group"/>: the group as saved (Done) or as it stands (Unchanged); <paramref name="Error"/>:
    /// the attribute change's refusal (Invalid); <paramref name="UnknownMembers"/>: the member ids that are
    /// neither a live user nor another group of the directory (UnknownMembers).
    /// </summary>
    public sealed record Change<TError>(Status Status, DirectoryGroup? Group = null, TError? Error = default,
        IReadOnlyList<string>? UnknownMembers = null);

    /// <summary>A new group with a fresh id, <paramref name="attributes"/> and the direct members <paramref name="memberIds"/>.</summary>
    public async Task<Change<TError>> CreateAsync<TError>(DirectoryRecord directory, TenantSettings settings, JsonObject attributes,
        IReadOnlyList<string> memberIds, DirectoryChanges.Retry retry, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < retry.MaxAttempts; attempt++)
        {
            var now = clock.GetUtcNow();
            var group = new DirectoryGroup(directory.Id, Ids.New(DirectoryGroup.IdPrefix), attributes, 1, now, now);
            var members = await ResolveMembersAsync(directory, group.Id, memberIds, cancellationToken);
            if (!members.IsSuccess) return new(Status.UnknownMembers, UnknownMembers: members.Error);

            var (events, units) = await changes.GroupChangeAsync(directory, settings, null, group, [], members.Value, [], cancellationToken);
            // A member renamed or deleted between its read and the commit fails the transaction (its
            // userName index row moved): nothing of this group was written, so resolve and try again.
            if (await groups.CreateGroupAsync(group, events, units, cancellationToken) != SaveOutcome.Saved
                && await groups.FindGroupAsync(directory.Id, group.Id, cancellationToken) is null)
            {
                if (retry.BackOff) await DirectoryChanges.Retry.BackOffAsync(attempt, cancellationToken);
                continue;
            }
            await changes.RefreshAddedMemberDisplaysAsync(directory, members.Value, cancellationToken);
            return new(Status.Done, group);
        }
        return new(Status.GaveUp);
    }

    /// <summary>
    /// Changes a group: <paramref name="changeAttributes"/> gives its new attributes (or refuses) from
    /// the stored ones, <paramref name="delta"/> its members. <paramref name="precondition"/> (the
    /// client's If-Match) must hold for the group as read; <paramref name="ifMatch"/> says the client
    /// sent one, so a member-only change also waits on the group row's ETag.
    /// </summary>
    public async Task<Change<TError>> ChangeAsync<TError>(DirectoryRecord directory, TenantSettings settings, string groupId,
        Func<DirectoryGroup, bool> precondition, Func<JsonObject, Result<JsonObject, TError>> changeAttributes, ScimMembershipDelta delta,
        bool ifMatch, DirectoryChanges.Retry retry, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < retry.MaxAttempts; attempt++)
        {
            if (await groups.FindGroupAsync(directory.Id, groupId, cancellationToken) is not { } before) return new(Status.NotFound);
            if (!precondition(before)) return new(Status.PreconditionFailed);
            var attributes = changeAttributes(before.Resource);
            if (!attributes.IsSuccess) return new(Status.Invalid, Error: attributes.Error);

            var attributesChanged = !JsonNode.DeepEquals(attributes.Value, before.Resource);
            // Adds and removes alone need not serialise on the group row: an insert of a member row
            // that exists fails by itself, and is dropped as no change.
            var membersOnly = !attributesChanged && !delta.ReplacesAll;

            // The delta against the rows as they are now: only real changes become writes.
            var toAdd = new List<string>();
            var toRemove = new List<Membership>();
            if (delta.ReplacesAll)
            {
                var current = await groups.ListMembersAsync(directory.Id, groupId, cancellationToken);
                toRemove.AddRange(current.Where(m => !delta.Added.Contains(m.MemberId)));
                toAdd.AddRange(delta.Added.Where(id => current.All(m => m.MemberId != id)));
            }
            else
            {
                // A first member-only attempt leaves existing members to the insert's 409; a retry reads them.
                var checkAdds = !membersOnly || attempt > 0;
                var added = await Task.WhenAll(delta.Added.Select(async id =>
                    !checkAdds || await groups.FindMembershipAsync(directory.Id, groupId, id, cancellationToken) is null ? id : null));
                toAdd.AddRange(added.OfType<string>());
                var removed = await Task.WhenAll(delta.Removed.Select(id => groups.FindMembershipAsync(directory.Id, groupId, id, cancellationToken)));
                toRemove.AddRange(removed.OfType<Membership>());
            }
            var additions = await ResolveMembersAsync(directory, groupId, toAdd, cancellationToken);
            if (!additions.IsSuccess) return new(Status.UnknownMembers, UnknownMembers: additions.Error);

            if (!attributesChanged && additions.Value.Count == 0 && toRemove.Count == 0) return new(Status.Unchanged, before);

            var now = clock.GetUtcNow();
            var after = membersOnly
                ? before with { LastModified = now, MembersRevision = DirectoryGroup.NewMembersRevision() }
                : before with { Resource = attributes.Value, Version = before.Version + 1, LastModified = now, MembersRevision = null };
            var (events, units) = await changes.GroupChangeAsync(directory, settings, before, after, toRemove, additions.Value, null, cancellationToken);
            var renamed = before.DisplayName != after.DisplayName;
            // A nested group's display in its parent groups is its displayName.
            var parentMemberships = renamed ? await groups.ListMembershipsOfMemberAsync(directory.Id, groupId, cancellationToken) : [];
            units.AddRange(parentMemberships.Select(m => DirectoryGroupStore.MemberDisplayChange(directory.Id, m, after.DisplayName)));

            if (membersOnly)
            {
                // Role changes of a member-only change all ride in their member's unit; none is left for the group.
                var change = await groups.ChangeMembersAsync(before, after, units, ifMatch, cancellationToken);
                if (change.Outcome == SaveOutcome.Saved)
                {
                    var applied = additions.Value.Where((_, i) => change.Applied.Contains(units[toRemove.Count + i])).ToList();
                    await changes.RefreshAddedMemberDisplaysAsync(directory, applied, cancellationToken);
                    return new(Status.Done, (change.Applied.Count > 0 ? after : before) with { ETag = default });
                }
                // Otherwise the group is gone or moved under If-Match, or a member row changed: the next
                // attempt reads the group again (404, or 412 against If-Match) and the rows as they are.
            }
            else if (await groups.SaveGroupAsync(before, after, events, units, cancellationToken) == SaveOutcome.Saved)
            {
                await changes.RefreshAddedMemberDisplaysAsync(directory, additions.Value, cancellationToken);
                if (renamed)
                    await groups.RefreshMemberDisplaysAsync(directory.Id, groupId, parentMemberships.Select(m => m.GroupId).ToHashSet(), cancellationToken);
                return new(Status.Done, after with { ETag = default });
            }
            // Stale (another PATCH moved the group row) or a member row raced: read again, re-apply.
            if (retry.BackOff) await DirectoryChanges.Retry.BackOffAsync(attempt, cancellationToken);
        }
        return new(Status.GaveUp);
    }

    /// <summary>Resolves new member ids to users (or groups) of this directory; the error lists the ids that are neither.</summary>
    private async Task<Result<List<Membership>, IReadOnlyList<string>>> ResolveMembersAsync(DirectoryRecord directory, string groupId,
        IEnumerable<string> memberIds, CancellationToken cancellationToken)
    {
        var resolved = await Task.WhenAll(memberIds.Distinct(StringComparer.Ordinal).Select(async id =>
        {
            if (await users.FindUserAsync(directory.Id, id, cancellationToken) is { Deleted: false } user)
                return new Membership(groupId, id, user.UserName);
            if (id != groupId && await groups.FindGroupAsync(directory.Id, id, cancellationToken) is { } group)
                return new Membership(groupId, id, group.DisplayName);
            return null;
        }));
        var missing = memberIds.Distinct(StringComparer.Ordinal).Zip(resolved).Where(p => p.Second is null).Select(p => p.First).ToList();
        if (missing.Count > 0) return Result<List<Membership>, IReadOnlyList<string>>.Failure(missing);
        return resolved.Select(m => m!).ToList();
    }
}
