using Sso.Functions.DirectorySync;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.OAuth;

/// <summary>
/// The sign-in policy's view of the tenant's SCIM directories: the user whose userName or
/// primary email equals the asserted email (case-insensitive), with the state, role and groups
/// the directory gives them.
/// </summary>
public sealed class SignInDirectory(DirectoryUserStore directories, DirectoryGroupStore groupStore, TenantStore tenants)
{
    public async Task<DirectoryUserView?> FindUserByEmailAsync(TenantId tenantId, string email, CancellationToken cancellationToken)
    {
        // The tenant's directory index and the sign-in index rows (userName and primary email,
        // kept for deprovisioned users) answer this without a scan.
        var candidates = (await directories.FindSignInCandidatesAsync(tenantId, email, cancellationToken))
            .Select(user => (DirectoryId: user.DirectoryId, User: user)).ToList();
        if (candidates.Count == 0) return null;

        // Several matches (two directories, or a user deleted and created again): an active one
        // signs in; otherwise the refusal names the least final state.
        var (chosenDirectory, chosen) = candidates
            .OrderBy(c => c.User.State switch { UserState.Active => 0, UserState.Suspended => 1, _ => 2 })
            .First();
        var groups = new List<RoleResolver.GroupRef>();
        if (chosen.State == UserState.Active)
        {
            var groupIds = await groupStore.ListGroupIdsOfMemberAsync(chosenDirectory, chosen.Id, cancellationToken);
            var found = await Task.WhenAll(groupIds.Select(groupId => groupStore.FindGroupAsync(chosenDirectory, groupId, cancellationToken)));
            groups.AddRange(found.OfType<DirectoryGroup>().Select(group => new RoleResolver.GroupRef(group.Id, group.DisplayName)));
        }
        var settings = (await tenants.FindCachedAsync(tenantId, cancellationToken))?.Settings ?? TenantSettings.Default;
        return new DirectoryUserView(
            chosen.Id,
            DirectoryViews.StateName(chosen.State),
            RoleResolver.Resolve(settings, chosen.Resource, groups),
            groups.Select(g => g.DisplayName).ToList(),
            chosenDirectory.Value);
    }
}
