using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// A directory's groups (<c>group|</c>, with the name index <c>groupName|</c> and the tombstones of
/// deleted groups <c>deletedGroup|</c>) and memberships (<c>member|grp|usr</c>, carrying the member's
/// display name, and the mirror <c>memberOf|usr|grp</c>) in its partition of table "directory". A
/// change, its rows and its events commit in one transaction (<see cref="DirectoryPartitionWriter"/>).
/// </summary>
public sealed class DirectoryGroupStore(DirectoryPartitionWriter writer, DirectoryUserStore users)
{
    public const string DeletedGroupKind = "deletedGroup";

    public static string GroupNameKey(string displayName, string groupId) =>
        TableKey.Row("groupName", displayName.ToLowerInvariant()) + "|" + TableKey.Escape(groupId);

    private static string GroupNamePrefix(string displayName) => TableKey.Row("groupName", displayName.ToLowerInvariant()) + "|";

    private static string RangeFilter(DirectoryId id, string prefix) =>
        $"PartitionKey eq '{TableKey.Quote(id.Value)}' and RowKey gt '{TableKey.Quote(prefix)}' and RowKey lt '{TableKey.Quote(prefix[..^1])}}}'";

    // ---- groups ----

    public async Task<DirectoryGroup?> FindGroupAsync(DirectoryId id, string groupId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(TableKey.Row(DirectoryGroup.Kind, groupId))) return null;
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row(DirectoryGroup.Kind, groupId), cancellationToken: cancellationToken);
        return row.HasValue ? DirectoryGroup.FromEntity(row.Value!) : null;
    }

    /// <summary>Groups with this display name (case-insensitive), from the name index: a range of one key.</summary>
    public async Task<IReadOnlyList<DirectoryGroup>> FindGroupsByDisplayNameAsync(DirectoryId id, string displayName, CancellationToken cancellationToken)
    {
        var prefix = GroupNamePrefix(displayName);
        if (!TableKey.FitsInKey(prefix + "x")) return [];
        var table = await writer.TableAsync(cancellationToken);
        var groups = new List<DirectoryGroup>();
        await foreach (var row in table.QueryAsync<TableEntity>(RangeFilter(id, prefix), cancellationToken: cancellationToken))
            if (await FindGroupAsync(id, row.GetString("GroupId"), cancellationToken) is { } group) groups.Add(group);
        return groups;
    }

    public async IAsyncEnumerable<DirectoryGroup> QueryGroupsAsync(DirectoryId id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, DirectoryGroup.Kind), cancellationToken: cancellationToken))
            yield return DirectoryGroup.FromEntity(row);
    }

    public async Task<(IReadOnlyList<DirectoryGroup> Groups, string? NextCursor)> ListGroupsPageAsync(DirectoryId id, string? cursor, int limit,
        CancellationToken cancellationToken) =>
        await writer.PageOfKindAsync(id, DirectoryGroup.Kind, DirectoryGroup.FromEntity, cursor, limit, cancellationToken);

    public Task<SaveOutcome> CreateGroupAsync(DirectoryGroup group, IReadOnlyList<EventRecord> events, IReadOnlyList<WriteUnit> memberships,
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
        return writer.CommitAsync(group.DirectoryId, units, cancellationToken);
    }

    /// <summary>
    /// Saves a change of the group's attributes or of its whole member list: the group row under its
    /// ETag (so such changes serialise and retry, and a list replacement never loses a parallel
    /// add), its name index, and the membership rows with their events. Member-only changes go
    /// through <see cref="ChangeMembersAsync"/>.
    /// </summary>
    public Task<SaveOutcome> SaveGroupAsync(DirectoryGroup before, DirectoryGroup after, IReadOnlyList<EventRecord> events,
        IReadOnlyList<WriteUnit> memberships, CancellationToken cancellationToken)
    {
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpdateReplace, after.ToEntity(), before.ETag)];
        if (GroupNameKey(before.DisplayName, before.Id) != GroupNameKey(after.DisplayName, after.Id))
        {
            actions.Add(new(TableTransactionActionType.Delete, new TableEntity(before.DirectoryId.Value, GroupNameKey(before.DisplayName, before.Id)), ETag.All));
            actions.Add(new(TableTransactionActionType.Add, new TableEntity(after.DirectoryId.Value, GroupNameKey(after.DisplayName, after.Id)) { ["GroupId"] = after.Id }));
        }
        return writer.CommitAsync(after.DirectoryId, [new WriteUnit(actions, events.ToList()), .. memberships], cancellationToken);
    }

    /// <summary>
    /// Deletes a group the fast way: in one transaction the group row and its name index row go,
    /// a tombstone (<c>deletedGroup|</c>) takes their place and the events commit. The membership
    /// rows stay for the <c>group.remove-memberships</c> tasks the deleted event fans out; every
    /// reader resolves groups through <see cref="FindGroupAsync"/>, which no longer finds it, so
    /// roles and views treat the group as gone from this commit on.
    /// </summary>
    public Task<SaveOutcome> DeleteGroupAsync(DirectoryGroup group, IReadOnlyList<EventRecord> events, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var tombstone = group.ToEntity();
        tombstone.RowKey = TableKey.Row(DeletedGroupKind, group.Id);
        tombstone["DeletedAt"] = now;
        return writer.CommitAsync(group.DirectoryId, [new([
            new(TableTransactionActionType.Delete, new TableEntity(group.DirectoryId.Value, TableKey.Row(DirectoryGroup.Kind, group.Id)), group.ETag),
            new(TableTransactionActionType.Delete, new TableEntity(group.DirectoryId.Value, GroupNameKey(group.DisplayName, group.Id)), ETag.All),
            new(TableTransactionActionType.UpsertReplace, tombstone),
        ], events.ToList())], cancellationToken);
    }

    /// <summary>A group deleted whose membership rows are still being removed; null once they all are.</summary>
    public async Task<DirectoryGroup?> FindDeletedGroupAsync(DirectoryId id, string groupId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(TableKey.Row(DeletedGroupKind, groupId))) return null;
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row(DeletedGroupKind, groupId), cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var entity = row.Value!;
        return new DirectoryGroup(id, groupId, System.Text.Json.Nodes.JsonNode.Parse(entity.GetString("Resource"))!.AsObject(),
            entity.GetInt64("Version") ?? 1, entity.GetDateTimeOffset("Created") ?? default, entity.GetDateTimeOffset("LastModified") ?? default,
            entity.ETag);
    }

    /// <summary>
    /// Removes a deleted group's tombstone once no membership row of it is left; true when the
    /// group is gone for good. No row can be added to a deleted group (it is not found), so a
    /// group seen empty stays empty.
    /// </summary>
    public async Task<bool> FinishGroupDeletionAsync(DirectoryId id, string groupId, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var prefix = $"{Membership.Kind}|{TableKey.Escape(groupId)}|";
        await foreach (var _ in table.QueryAsync<TableEntity>(RangeFilter(id, prefix), maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken))
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

    // ---- memberships ----

    public async Task<IReadOnlyList<Membership>> ListMembersAsync(DirectoryId id, string groupId, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var prefix = $"{Membership.Kind}|{TableKey.Escape(groupId)}|";
        var members = new List<Membership>();
        await foreach (var row in table.QueryAsync<TableEntity>(RangeFilter(id, prefix), cancellationToken: cancellationToken))
            members.Add(new Membership(groupId, row.GetString("MemberId"), row.GetString("UserName"), row.ETag));
        return members;
    }

    public async Task<IReadOnlyList<string>> ListGroupIdsOfMemberAsync(DirectoryId id, string memberId, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var prefix = $"{Membership.ReverseKind}|{TableKey.Escape(memberId)}|";
        var groups = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(RangeFilter(id, prefix), select: ["GroupId"], cancellationToken: cancellationToken))
            groups.Add(row.GetString("GroupId"));
        return groups;
    }

    public async Task<Membership?> FindMembershipAsync(DirectoryId id, string groupId, string memberId, CancellationToken cancellationToken)
    {
        if (!TableKey.FitsInKey(Membership.RowKey(groupId, memberId))) return null;
        var table = await writer.TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, Membership.RowKey(groupId, memberId), cancellationToken: cancellationToken);
        return row.HasValue ? new Membership(groupId, memberId, row.Value!.GetString("UserName"), row.Value.ETag) : null;
    }

    /// <summary>
    /// Every membership of the directory, member id → group ids: one range read of the <c>memberOf|</c>
    /// rows, for a filter on the users' <c>groups</c> that has to look at every user.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, List<string>>> ListGroupIdsByMemberAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var byMember = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, Membership.ReverseKind), select: ["GroupId", "MemberId"],
                           cancellationToken: cancellationToken))
        {
            var memberId = row.GetString("MemberId");
            if (!byMember.TryGetValue(memberId, out var groups)) byMember[memberId] = groups = [];
            groups.Add(row.GetString("GroupId"));
        }
        return byMember;
    }

    /// <summary>The <c>member|</c> rows (with their ETags) of every group that <paramref name="memberId"/> is a direct member of.</summary>
    public async Task<IReadOnlyList<Membership>> ListMembershipsOfMemberAsync(DirectoryId id, string memberId, CancellationToken cancellationToken)
    {
        var memberships = new List<Membership>();
        foreach (var groupId in await ListGroupIdsOfMemberAsync(id, memberId, cancellationToken))
            if (await FindMembershipAsync(id, groupId, memberId, cancellationToken) is { } membership)
                memberships.Add(membership);
        return memberships;
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
            && TableKey.FitsInKey(DirectoryUserStore.UserNameKey(userName)))
            unit.Actions.Add(DirectoryUserStore.MarkInGroups(id, userName));
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

    /// <summary>Commits membership removals, each unit with its events (removed, role changed).</summary>
    public Task<SaveOutcome> RemoveMembersAsync(DirectoryId id, IReadOnlyList<WriteUnit> removals, CancellationToken cancellationToken) =>
        writer.CommitAsync(id, removals, cancellationToken);

    /// <summary>Removes memberships, each with its event, in as few transactions as they fit.</summary>
    public Task<SaveOutcome> RemoveMembershipsAsync(DirectoryId id, IReadOnlyList<(Membership Membership, EventRecord? Event)> memberships,
        CancellationToken cancellationToken) =>
        writer.CommitAsync(id, memberships.Select(m => MembershipRemoval(id, m.Membership, m.Event)).ToList(), cancellationToken);

    // ---- member-only changes ----
    //
    // DESIGN §4: concurrent member adds to one group do not contend. Each membership is its own
    // rows, so an add is an insert and a remove a delete; the group row is not rewritten under its
    // ETag. Every transaction carries a merge of a fresh membership revision into the group row
    // without an ETag condition: it makes the group's SCIM version change, and, since a merge of a
    // missing row fails, no member row can be added to a group deleted meanwhile (the deletion
    // fan-out relies on that).

    /// <summary>What a member-only change committed: the units that were real changes.</summary>
    public sealed record MemberChange(SaveOutcome Outcome, IReadOnlyList<WriteUnit> Applied);

    /// <summary>
    /// Commits membership units (<see cref="MembershipAddition"/>, <see cref="MembershipRemoval"/>), each
    /// with its events. A unit that is no change (the member was already there, or already gone) is
    /// dropped with its events and the rest committed, so each <c>user_added</c>/<c>user_removed</c>
    /// and <c>role_changed</c> is written once per real change. <paramref name="after"/> carries the
    /// new revision and time. <paramref name="ifMatch"/>: the client sent If-Match, so the group row
    /// must still be the one it saw (412 otherwise). <see cref="SaveOutcome.Stale"/> also when a member
    /// row changed under its ETag; the caller reads again.
    /// </summary>
    public async Task<MemberChange> ChangeMembersAsync(DirectoryGroup before, DirectoryGroup after, IReadOnlyList<WriteUnit> units, bool ifMatch,
        CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        var touch = new TableTransactionAction(TableTransactionActionType.UpdateMerge, after.ToMembersTouchEntity(), ifMatch ? before.ETag : ETag.All);
        var pending = new List<WriteUnit>(units);
        var applied = new List<WriteUnit>();
        var committed = new List<EventRecord>();
        var outcome = SaveOutcome.Saved;
        while (pending.Count > 0)
        {
            // The touch and as many whole units as fit in one transaction (100 actions).
            var actions = new List<TableTransactionAction> { touch };
            var owners = new List<WriteUnit?> { null };
            var batch = new List<WriteUnit>();
            foreach (var unit in pending)
            {
                var size = unit.Actions.Count + unit.Events.Count;
                if (actions.Count + size > 100 && batch.Count > 0) break;
                batch.Add(unit);
                actions.AddRange(unit.Actions);
                actions.AddRange(unit.Events.Select(e => DirectoryPartitionWriter.OutboxAdd(before.DirectoryId, e)));
                owners.AddRange(Enumerable.Repeat<WriteUnit?>(unit, size));
            }
            try
            {
                await table.SubmitTransactionAsync(actions, cancellationToken);
                applied.AddRange(batch);
                committed.AddRange(batch.SelectMany(u => u.Events));
                pending.RemoveRange(0, batch.Count);
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
            {
                var failed = e.FailedTransactionActionIndex is { } index && index < owners.Count ? owners[index] : null;
                var noChange = failed is not null
                               && (e.Status == 409 && failed.Actions[0].ActionType == TableTransactionActionType.Add
                                   || e.Status == 404 && failed.Actions[0].ActionType == TableTransactionActionType.Delete);
                if (noChange)
                {
                    // Already a member (409 on the insert) or already removed (404 on the delete): not a change.
                    pending.Remove(failed!);
                    continue;
                }
                // The group row (gone, or not the version If-Match named), a member row changed under
                // its ETag, or a failure the service did not place: the caller reads again.
                outcome = failed is null && e.Status == 404 ? SaveOutcome.NotFound : SaveOutcome.Stale;
                break;
            }
        }
        writer.Publish(before.DirectoryId, committed);
        return new MemberChange(outcome, applied);
    }

    // ---- member display ----
    //
    // The member row carries the member's display name. A rename changes the member rows it finds
    // in its own transaction, but a member row inserted between the rename's read of them and its
    // commit carries the old name. So both writers check again after they commit: the adder reads
    // the member's name (RefreshAddedMemberDisplayAsync), the renamer reads the member rows
    // (RefreshMemberDisplaysAsync). Whichever commits last sees the other's write, so the rows
    // converge on the current name.

    /// <summary>
    /// The member row with the member's new name, under the row's ETag: a membership removed meanwhile
    /// fails the transaction (404/412) and the rename is retried against the rows as they are then.
    /// </summary>
    public static WriteUnit MemberDisplayChange(DirectoryId id, Membership membership, string display) =>
        new(new TableTransactionAction(TableTransactionActionType.UpdateMerge,
            new TableEntity(id.Value, Membership.RowKey(membership.GroupId, membership.MemberId)) { ["UserName"] = display },
            membership.ETag == default ? ETag.All : membership.ETag));

    /// <summary>After inserting <paramref name="added"/>: one read of the member; a repair only if it was renamed meanwhile.</summary>
    public async Task RefreshAddedMemberDisplayAsync(DirectoryId id, Membership added, CancellationToken cancellationToken)
    {
        if (await CurrentDisplayAsync(id, added.MemberId, cancellationToken) is { } current && current != added.MemberUserName)
            await RefreshMemberDisplayAsync(id, added.GroupId, added.MemberId, cancellationToken);
    }

    /// <summary>After a rename committed: the member rows its transaction did not change (inserted meanwhile).</summary>
    public async Task RefreshMemberDisplaysAsync(DirectoryId id, string memberId, IReadOnlyCollection<string> changedGroupIds,
        CancellationToken cancellationToken)
    {
        foreach (var groupId in await ListGroupIdsOfMemberAsync(id, memberId, cancellationToken))
            if (!changedGroupIds.Contains(groupId))
                await RefreshMemberDisplayAsync(id, groupId, memberId, cancellationToken);
    }

    private async Task<string?> CurrentDisplayAsync(DirectoryId id, string memberId, CancellationToken cancellationToken) =>
        memberId.StartsWith(DirectoryGroup.IdPrefix, StringComparison.Ordinal)
            ? (await FindGroupAsync(id, memberId, cancellationToken))?.DisplayName
            : await users.FindUserAsync(id, memberId, cancellationToken) is { Deleted: false } user ? user.UserName : null;

    private async Task RefreshMemberDisplayAsync(DirectoryId id, string groupId, string memberId, CancellationToken cancellationToken)
    {
        var table = await writer.TableAsync(cancellationToken);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            // The member row first, then the name: a rename committing in between moves the row's ETag.
            if (await FindMembershipAsync(id, groupId, memberId, cancellationToken) is not { } membership) return;
            var current = await CurrentDisplayAsync(id, memberId, cancellationToken);
            if (current is null || current == membership.MemberUserName) return;
            try
            {
                await table.UpdateEntityAsync(new TableEntity(id.Value, Membership.RowKey(groupId, memberId)) { ["UserName"] = current },
                    membership.ETag, TableUpdateMode.Merge, cancellationToken);
                return;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return;
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
            }
        }
    }
}
