using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Tenants;
using Sso.Protocols.Scim;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// Decides a user's role from the tenant's settings: every role the user qualifies for through a
/// <c>groupRoleMappings</c> entry (a direct group, matched by display name ignoring case, or by id)
/// or through the value of <c>roleAttribute</c>; the highest in <c>roles</c> wins; a user who
/// qualifies for none gets <c>defaultRole</c>. Nested groups are not expanded: only direct
/// membership counts.
/// </summary>
public static class RoleResolver
{
    public sealed record GroupRef(string Id, string DisplayName);

    public static string Resolve(TenantSettings settings, JsonObject user, IEnumerable<GroupRef> directGroups)
    {
        string? best = null;
        var bestRank = -1;
        void Consider(string candidate)
        {
            // Role names from an IdP attribute may differ in case from the tenant's list.
            var known = settings.Roles.FirstOrDefault(r => string.Equals(r, candidate, StringComparison.OrdinalIgnoreCase));
            if (known is null) return;
            var rank = settings.RankOf(known);
            if (rank > bestRank) (best, bestRank) = (known, rank);
        }

        foreach (var group in directGroups)
            foreach (var mapping in settings.GroupRoleMappings)
                if (string.Equals(mapping.Group, group.Id, StringComparison.Ordinal)
                    || string.Equals(mapping.Group, group.DisplayName, StringComparison.OrdinalIgnoreCase))
                    Consider(mapping.Role);

        if (settings.RoleAttribute is { Length: > 0 } attribute)
            foreach (var value in RoleAttributeValues(user, attribute))
                Consider(value);

        return best ?? settings.DefaultRole;
    }

    /// <summary>
    /// The values at the role attribute path; a bare name that is not a core attribute is also looked
    /// up in every extension the IdP sent (e.g. <c>planetscale_role</c> under a custom schema URN).
    /// </summary>
    private static IEnumerable<string> RoleAttributeValues(JsonObject user, string attribute)
    {
        var values = ScimAttributeReader.Strings(user, attribute, ScimSchemas.UserResource);
        if (values.Count > 0 || attribute.StartsWith("urn:", StringComparison.OrdinalIgnoreCase)) return values;
        var found = new List<string>();
        foreach (var (key, value) in user)
            if (key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) && value is JsonObject extension
                && ScimJson.Get(extension, attribute) is JsonValue text && text.GetValueKind() == JsonValueKind.String)
                found.Add(text.GetValue<string>());
        return found;
    }
}
