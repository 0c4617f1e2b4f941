using Azure.Data.Tables;
using Sso.Functions.DirectorySync;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.OAuth;

/// <summary>
/// The sign-in policy's view of the tenant's SCIM directories: the user whose userName or
/// primary email equals the asserted email (case-insensitive), with the state, role and groups
/// the directory gives them.
/// </summary>
public sealed class SignInDirectory(DirectoryStore directories, TenantStore tenants)
{
    public async Task<DirectoryUserView?> FindUserByEmailAsync(TenantId tenantId, string email, CancellationToken cancellationToken)
    {
        var candidates = new List<(DirectoryId DirectoryId, DirectoryUser User)>();
        foreach (var directoryId in await DirectoriesOfTenantAsync(tenantId, cancellationToken))
        {
            // userName is indexed (live users only); a deprovisioned user lost its index rows, and
            // a primary email that differs from the userName is not indexed: both need the scan.
            if (await directories.FindUserByIndexAsync(directoryId, DirectoryStore.UserNameKey(email), cancellationToken) is { } indexed)
            {
                candidates.Add((directoryId, indexed));
                if (indexed.State == UserState.Active) break;
                continue;
            }
            await foreach (var user in directories.QueryUsersAsync(directoryId, includeDeleted: true, cancellationToken))
                if (string.Equals(user.UserName, email, StringComparison.OrdinalIgnoreCase)
                    || string.Equals(DirectoryViews.PrimaryEmail(user.Resource), email, StringComparison.OrdinalIgnoreCase))
                    candidates.Add((directoryId, user));
        }
        if (candidates.Count == 0) return null;

        // Several matches (two directories, or a user deleted and created again): an active one
        // signs in; otherwise the refusal names the least final state.
        var (chosenDirectory, chosen) = candidates
            .OrderBy(c => c.User.State switch { UserState.Active => 0, UserState.Suspended => 1, _ => 2 })
            .First();
        var groups = new List<RoleResolver.GroupRef>();
        if (chosen.State == UserState.Active)
        {
            foreach (var groupId in await directories.ListGroupIdsOfMemberAsync(chosenDirectory, chosen.Id, cancellationToken))
                if (await directories.FindGroupAsync(chosenDirectory, groupId, cancellationToken) is { } group)
                    groups.Add(new RoleResolver.GroupRef(group.Id, group.DisplayName));
        }
        var settings = (await tenants.FindAsync(tenantId, cancellationToken))?.Settings ?? TenantSettings.Default;
        return new DirectoryUserView(
            chosen.Id,
            DirectoryViews.StateName(chosen.State),
            RoleResolver.Resolve(settings, chosen.Resource, groups),
            groups.Select(g => g.DisplayName).ToList());
    }

    private async Task<IReadOnlyList<DirectoryId>> DirectoriesOfTenantAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        // DirectoryStore keeps no tenant → directories index yet, so this filters the directory
        // rows (one per directory partition) by their TenantId column.
        var table = await directories.TableAsync(cancellationToken);
        var ids = new List<DirectoryId>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"RowKey eq '{DirectoryRecord.RowKey}' and TenantId eq '{TableKey.Quote(tenantId.Value)}'",
                           select: ["PartitionKey"], cancellationToken: cancellationToken))
            ids.Add(new DirectoryId(row.PartitionKey));
        return ids;
    }
}
