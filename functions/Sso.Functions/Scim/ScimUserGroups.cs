using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;

namespace Sso.Functions.Scim;

/// <summary>
/// A user's read-only <c>groups</c> (RFC 7643 §4.1.2) for one request: the direct groups from the
/// user's <c>memberOf|</c> rows (one range read of the directory's partition), each group's name read
/// from its row, once per request, so a group rename shows at once. Nested groups are not expanded.
/// </summary>
public sealed class ScimUserGroups(DirectoryGroupStore store, DirectoryId directoryId, string baseUrl)
{
    private readonly Dictionary<string, DirectoryGroup?> _groups = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, List<string>>? _groupIdsByMember;
    private readonly HashSet<string> _inNoGroup = new(StringComparer.Ordinal);

    /// <summary>The caller knows this user is in no group (its userName index row says so): no read for it.</summary>
    public void KnowsNone(string userId) => _inNoGroup.Add(userId);

    /// <summary>Reads every membership and group of the directory at once: for a filter that must see every user's groups.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        _groupIdsByMember = await store.ListGroupIdsByMemberAsync(directoryId, cancellationToken);
        await foreach (var group in store.QueryGroupsAsync(directoryId, cancellationToken)) _groups[group.Id] = group;
    }

    public async Task<JsonArray> OfAsync(string userId, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> groupIds = _groupIdsByMember is { } all
            ? all.GetValueOrDefault(userId) ?? []
            : _inNoGroup.Contains(userId) ? [] : await store.ListGroupIdsOfMemberAsync(directoryId, userId, cancellationToken);
        var unread = groupIds.Where(id => !_groups.ContainsKey(id)).Distinct(StringComparer.Ordinal).ToList();
        // A group deleted meanwhile (its memberships are removed after it) is not a group of the user.
        var read = await Task.WhenAll(unread.Select(id => _groupIdsByMember is null
            ? store.FindGroupAsync(directoryId, id, cancellationToken)
            : Task.FromResult<DirectoryGroup?>(null)));
        foreach (var (id, group) in unread.Zip(read)) _groups[id] = group;

        var groups = new JsonArray();
        foreach (var id in groupIds)
            if (_groups[id] is { } group)
                groups.Add((JsonNode)Render(group, baseUrl));
        return groups;
    }

    private static JsonObject Render(DirectoryGroup group, string baseUrl) => new()
    {
        ["value"] = group.Id,
        ["$ref"] = $"{baseUrl}/Groups/{group.Id}",
        ["display"] = group.DisplayName,
        ["type"] = "direct",
    };
}
