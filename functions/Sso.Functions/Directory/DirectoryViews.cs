using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Protocols.Scim;

namespace Sso.Functions.DirectorySync;

/// <summary>How the management API shows synced users and groups (DESIGN.md §3.1).</summary>
public static class DirectoryViews
{
    public static string StateName(UserState state) => state switch
    {
        UserState.Active => "active",
        UserState.Suspended => "suspended",
        _ => "deprovisioned",
    };

    /// <summary>The primary email, else the work email, else the first one.</summary>
    public static string? PrimaryEmail(JsonObject resource)
    {
        if (resource["emails"] is not JsonArray emails) return null;
        var values = emails.OfType<JsonObject>().ToList();
        var chosen = values.FirstOrDefault(e => ScimJson.AsBoolean(e["primary"]) == true)
                     ?? values.FirstOrDefault(e => string.Equals(ScimJson.GetString(e, "type"), "work", StringComparison.OrdinalIgnoreCase))
                     ?? values.FirstOrDefault();
        return chosen is null ? null : ScimJson.GetString(chosen, "value");
    }

    public static JsonObject User(DirectoryUser user, string role, IEnumerable<RoleResolver.GroupRef> groups)
    {
        var attributes = user.Resource.DeepClone().AsObject();
        attributes.Remove("schemas");
        return new JsonObject
        {
            ["id"] = user.Id,
            ["externalId"] = user.ExternalId,
            ["userName"] = user.UserName,
            ["email"] = PrimaryEmail(user.Resource),
            ["givenName"] = user.Resource["name"]?["givenName"] is JsonValue given && given.GetValueKind() == JsonValueKind.String ? given.GetValue<string>() : null,
            ["familyName"] = user.Resource["name"]?["familyName"] is JsonValue family && family.GetValueKind() == JsonValueKind.String ? family.GetValue<string>() : null,
            ["active"] = !user.Deleted && user.Active,
            ["state"] = StateName(user.State),
            ["role"] = role,
            ["groups"] = new JsonArray(groups.Select(g => (JsonNode)new JsonObject { ["id"] = g.Id, ["displayName"] = g.DisplayName }).ToArray()),
            ["attributes"] = attributes,
            ["createdAt"] = user.Created.ToString("O"),
            ["updatedAt"] = user.LastModified.ToString("O"),
        };
    }

    public static JsonObject Group(DirectoryGroup group, IEnumerable<Membership> members) => new()
    {
        ["id"] = group.Id,
        ["externalId"] = group.ExternalId,
        ["displayName"] = group.DisplayName,
        ["members"] = new JsonArray(members.Select(m => (JsonNode)new JsonObject { ["id"] = m.MemberId, ["userName"] = m.MemberUserName }).ToArray()),
        ["createdAt"] = group.Created.ToString("O"),
        ["updatedAt"] = group.LastModified.ToString("O"),
    };
}
