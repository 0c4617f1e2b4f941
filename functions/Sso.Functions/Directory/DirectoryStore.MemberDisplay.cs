using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// The reverse side of membership: which groups a member is in (the <c>memberOf|</c> rows, one range
/// of the directory's partition), and keeping the <c>display</c> stored on <c>member|</c> rows equal to
/// the member's current name when a user or group is renamed.
/// </summary>
public sealed partial class DirectoryStore
{
    /// <summary>
    /// Every membership of the directory, member id → group ids: one range read of the <c>memberOf|</c>
    /// rows, for a filter on the users' <c>groups</c> that has to look at every user.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, List<string>>> ListGroupIdsByMemberAsync(DirectoryId id, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
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

    /// <summary>
    /// The member row with the member's new name, under the row's ETag: a membership removed meanwhile
    /// fails the transaction (404/412) and the rename is retried against the rows as they are then.
    /// </summary>
    public static WriteUnit MemberDisplayChange(DirectoryId id, Membership membership, string display) =>
        new(new TableTransactionAction(TableTransactionActionType.UpdateMerge,
            new TableEntity(id.Value, Membership.RowKey(membership.GroupId, membership.MemberId)) { ["UserName"] = display },
            membership.ETag == default ? ETag.All : membership.ETag));

    // A rename changes the member rows it finds in its own transaction, but a member row inserted
    // between the rename's read of them and its commit carries the old name. So both writers check
    // again after they commit: the adder reads the member's name (RefreshAddedMemberDisplayAsync),
    // the renamer reads the member rows (RefreshMemberDisplaysAsync). Whichever commits last sees
    // the other's write, so the rows converge on the current name.

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
            : await FindUserAsync(id, memberId, cancellationToken) is { Deleted: false } user ? user.UserName : null;

    private async Task RefreshMemberDisplayAsync(DirectoryId id, string groupId, string memberId, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
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
