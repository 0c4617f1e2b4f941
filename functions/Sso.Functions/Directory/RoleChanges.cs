using System.Text.Json.Nodes;
using Sso.Functions.Outbox;
using Sso.Functions.Tenants;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// Works out the <c>dsync.user.role_changed</c> events of a change, so they are written in the same
/// transaction as the membership row or user row that caused them. Roles are not stored: they are
/// resolved from the tenant's current settings when read (<see cref="RoleResolver"/>).
/// </summary>
public static class RoleChanges
{
    public const string RoleChanged = "dsync.user.role_changed";

    /// <param name="cached">On a SCIM request: the tenant as this instance read it within <see cref="TenantStore.CacheFor"/>. Queue work reads it fresh.</param>
    public static async Task<TenantSettings> SettingsAsync(TenantStore tenants, DirectoryRecord directory, CancellationToken cancellationToken,
        bool cached = false) =>
        (cached
            ? await tenants.FindCachedAsync(directory.TenantId, cancellationToken)
            : await tenants.FindAsync(directory.TenantId, cancellationToken))?.Settings ?? TenantSettings.Default;

    private static bool Maps(TenantSettings settings, string groupId, string? displayName) =>
        settings.GroupRoleMappings.Any(m => m.Group == groupId
                                            || (displayName is not null && string.Equals(m.Group, displayName, StringComparison.OrdinalIgnoreCase)));

    private static EventRecord Event(DirectoryRecord directory, DirectoryUser user, string previous, string role, DateTimeOffset now) =>
        DirectoryEvents.Create(directory, RoleChanged, now, new JsonObject
        {
            ["user"] = new JsonObject { ["id"] = user.Id, ["userName"] = user.UserName },
            ["previousRole"] = previous,
            ["role"] = role,
        });

    /// <summary>
    /// Role changes when members join or leave a group, or the group is created, renamed or deleted.
    /// <paramref name="nameBefore"/> is null for a new group, <paramref name="nameAfter"/> for a deleted one.
    /// </summary>
    public static async Task<Dictionary<string, EventRecord>> ForGroupChangeAsync(
        DirectoryUserStore users, DirectoryGroupStore groups, DirectoryRecord directory, TenantSettings settings, string groupId, string? nameBefore, string? nameAfter,
        IReadOnlyCollection<string> added, IReadOnlyCollection<string> removed, IReadOnlyCollection<string> unchanged,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var events = new Dictionary<string, EventRecord>();
        if (!Maps(settings, groupId, nameBefore) && !Maps(settings, groupId, nameAfter)) return events;
        var groupCache = new Dictionary<string, DirectoryGroup?>();
        var affected = added.Concat(removed).Concat(nameBefore != nameAfter ? unchanged : []).Distinct().ToList();
        foreach (var userId in affected)
        {
            if (await users.FindUserAsync(directory.Id, userId, cancellationToken) is not { Deleted: false } user) continue;
            var others = new List<RoleResolver.GroupRef>();
            foreach (var otherId in await groups.ListGroupIdsOfMemberAsync(directory.Id, userId, cancellationToken))
            {
                if (otherId == groupId) continue;
                if (!groupCache.TryGetValue(otherId, out var other))
                    groupCache[otherId] = other = await groups.FindGroupAsync(directory.Id, otherId, cancellationToken);
                if (other is not null) others.Add(new RoleResolver.GroupRef(other.Id, other.DisplayName));
            }
            var wasMember = nameBefore is not null && !added.Contains(userId);
            var isMember = nameAfter is not null && !removed.Contains(userId);
            var before = RoleResolver.Resolve(settings, user.Resource, wasMember ? [.. others, new(groupId, nameBefore!)] : others);
            var after = RoleResolver.Resolve(settings, user.Resource, isMember ? [.. others, new(groupId, nameAfter!)] : others);
            if (before != after) events[userId] = Event(directory, user, before, after, now);
        }
        return events;
    }

    /// <summary>The role change when a user's own attributes change the value of the tenant's role attribute.</summary>
    public static async Task<EventRecord?> ForUserChangeAsync(DirectoryGroupStore store, DirectoryRecord directory, TenantSettings settings,
        DirectoryUser before, DirectoryUser after, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (settings.RoleAttribute is not { Length: > 0 }) return null;
        var groups = new List<RoleResolver.GroupRef>();
        foreach (var groupId in await store.ListGroupIdsOfMemberAsync(directory.Id, after.Id, cancellationToken))
            if (await store.FindGroupAsync(directory.Id, groupId, cancellationToken) is { } group)
                groups.Add(new RoleResolver.GroupRef(group.Id, group.DisplayName));
        var previous = RoleResolver.Resolve(settings, before.Resource, groups);
        var role = RoleResolver.Resolve(settings, after.Resource, groups);
        return previous == role ? null : Event(directory, after, previous, role, now);
    }
}
