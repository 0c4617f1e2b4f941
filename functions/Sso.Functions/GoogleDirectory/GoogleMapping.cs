using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sso.Functions.GoogleDirectory;

/// <summary>
/// Google's Directory API resources as the directory's SCIM-shaped users and groups: <c>primaryEmail</c>
/// is the userName and primary email, <c>name.givenName/familyName</c> the name, <c>suspended</c>
/// makes the user inactive, and the raw Google attributes are kept under <c>google</c> (less the ones
/// that change on every sign-in, which would make every sync an update).
/// </summary>
public static class GoogleMapping
{
    public const string UserIdPrefix = "usr_g";
    public const string GroupIdPrefix = "grp_g";
    private static readonly string[] Volatile = ["etag", "lastLoginTime", "thumbnailPhotoEtag", "thumbnailPhotoUrl", "kind"];

    /// <summary>The directory's id of a Google user or group: derived from Google's immutable id, so a sync finds it again by a point read.</summary>
    public static string UserId(string googleId) => UserIdPrefix + googleId;

    public static string GroupId(string googleId) => GroupIdPrefix + googleId;

    public static string? String(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>The user, or null when Google sent no id or no primaryEmail (such an entry is skipped).</summary>
    public static (string Id, JsonObject Resource)? User(JsonObject google)
    {
        if (String(google["id"]) is not { Length: > 0 and <= 200 } id || String(google["primaryEmail"]) is not { Length: > 0 and <= 256 } email)
            return null;
        var raw = google.DeepClone().AsObject();
        foreach (var key in Volatile) raw.Remove(key);
        var resource = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"),
            ["externalId"] = id,
            ["userName"] = email,
            ["name"] = new JsonObject
            {
                ["givenName"] = String(google["name"]?["givenName"]),
                ["familyName"] = String(google["name"]?["familyName"]),
            },
            ["emails"] = new JsonArray(new JsonObject { ["value"] = email, ["type"] = "work", ["primary"] = true }),
            ["active"] = !(google["suspended"] is JsonValue suspended && suspended.GetValueKind() == JsonValueKind.True),
            ["google"] = raw,
        };
        return (UserId(id), resource);
    }

    public static (string Id, JsonObject Resource)? Group(JsonObject google)
    {
        if (String(google["id"]) is not { Length: > 0 and <= 200 } id) return null;
        var name = String(google["name"]) is { Length: > 0 } n ? n : String(google["email"]) ?? id;
        var raw = google.DeepClone().AsObject();
        foreach (var key in Volatile) raw.Remove(key);
        raw.Remove("directMembersCount");
        return (GroupId(id), new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"),
            ["externalId"] = id,
            ["displayName"] = name.Length > 256 ? name[..256] : name,
            ["google"] = raw,
        });
    }

    /// <summary>The directory ids of a members page's direct members of type USER; groups and customers are not users.</summary>
    public static IEnumerable<string> UserMembers(JsonObject page) =>
        (page["members"] as JsonArray ?? []).OfType<JsonObject>()
        .Where(m => String(m["type"]) == "USER" && String(m["id"]) is { Length: > 0 and <= 200 })
        .Select(m => UserId(String(m["id"])!));
}
