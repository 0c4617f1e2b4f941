using System.Text.Json.Nodes;
using Sso.Functions.Tenants;

namespace Sso.Functions.DirectorySync;

/// <summary>A page of the management API's directory views: cursor null for the first page.</summary>
public sealed record DirectoryPaging(string? Cursor, int Limit)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>The raw parameters; an absent or unreadable limit is the default, one out of range is clamped.</summary>
    public static DirectoryPaging Parse(string? cursor, string? limit) => new(
        cursor is { Length: > 0 } ? cursor : null,
        int.TryParse(limit, out var parsed) ? Math.Clamp(parsed, 1, MaxLimit) : DefaultLimit);
}

public sealed record DirectoryPage(IReadOnlyList<JsonObject> Rows, string? NextCursor);

/// <summary>
/// The synced state as the management API lists it: users with their groups and the role the
/// tenant's settings resolve for them, groups with their members. No HTTP.
/// </summary>
public sealed class DirectoryListing(TenantStore tenants, DirectoryUserStore users, DirectoryGroupStore groups)
{
    public async Task<DirectoryPage> ListUsersAsync(DirectoryRecord directory, DirectoryPaging paging, CancellationToken cancellationToken)
    {
        var tenant = await tenants.FindAsync(directory.TenantId, cancellationToken);
        var settings = tenant?.Settings ?? TenantSettings.Default;
        var (page, next) = await users.ListUsersPageAsync(directory.Id, paging.Cursor, paging.Limit, cancellationToken);
        // Users of a page share most of their groups: read each group once.
        var groupCache = new Dictionary<string, DirectoryGroup?>();
        var rows = new List<JsonObject>();
        foreach (var user in page)
        {
            var memberOf = new List<RoleResolver.GroupRef>();
            foreach (var groupId in await groups.ListGroupIdsOfMemberAsync(directory.Id, user.Id, cancellationToken))
            {
                if (!groupCache.TryGetValue(groupId, out var group))
                    groupCache[groupId] = group = await groups.FindGroupAsync(directory.Id, groupId, cancellationToken);
                if (group is not null) memberOf.Add(new RoleResolver.GroupRef(group.Id, group.DisplayName));
            }
            rows.Add(DirectoryViews.User(user, RoleResolver.Resolve(settings, user.Resource, memberOf), memberOf));
        }
        return new DirectoryPage(rows, next);
    }

    public async Task<DirectoryPage> ListGroupsAsync(DirectoryRecord directory, DirectoryPaging paging, CancellationToken cancellationToken)
    {
        var (page, next) = await groups.ListGroupsPageAsync(directory.Id, paging.Cursor, paging.Limit, cancellationToken);
        var rows = new List<JsonObject>();
        foreach (var group in page)
            rows.Add(DirectoryViews.Group(group, await groups.ListMembersAsync(directory.Id, group.Id, cancellationToken)));
        return new DirectoryPage(rows, next);
    }
}
