using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// The signed-in user as the tokens and userinfo describe them. Built once when the code is
/// issued; the code row, the access-token row and the id_token all carry the same profile.
/// </summary>
public sealed record SignedInUser
{
    public required string Subject { get; init; }
    public required TenantId TenantId { get; init; }
    public required ConnectionId ConnectionId { get; init; }
    public required string Email { get; init; }
    public bool EmailVerified { get; init; }
    public string? GivenName { get; init; }
    public string? FamilyName { get; init; }
    public string? Name { get; init; }
    public required string Role { get; init; }
    public IReadOnlyList<string> Groups { get; init; } = [];
    public string? DirectoryUserId { get; init; }

    /// <summary>The directory of <see cref="DirectoryUserId"/>, so a token's check can read the user's row.</summary>
    public string? DirectoryId { get; init; }
    public required DateTimeOffset AuthTime { get; init; }
    public JsonObject IdpAttributes { get; init; } = new();

    /// <summary>
    /// The sign-in session (the id_token's <c>sid</c>): one per completed sign-in, shared by the
    /// code, the access token and the id_token, so RP-initiated logout can end exactly it.
    /// </summary>
    public string? SessionId { get; init; }

    public JsonObject ToJson() => new()
    {
        ["sub"] = Subject,
        ["tenant"] = TenantId.Value,
        ["connection"] = ConnectionId.Value,
        ["email"] = Email,
        ["emailVerified"] = EmailVerified,
        ["givenName"] = GivenName,
        ["familyName"] = FamilyName,
        ["name"] = Name,
        ["role"] = Role,
        ["groups"] = new JsonArray(Groups.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray()),
        ["directoryUserId"] = DirectoryUserId,
        ["directoryId"] = DirectoryId,
        ["authTime"] = AuthTime.ToUnixTimeSeconds(),
        ["idp"] = IdpAttributes.DeepClone(),
        ["sid"] = SessionId,
    };

    public static SignedInUser FromJson(JsonObject json) => new()
    {
        Subject = Str(json, "sub")!,
        TenantId = new TenantId(Str(json, "tenant")!),
        ConnectionId = new ConnectionId(Str(json, "connection")!),
        Email = Str(json, "email") ?? "",
        EmailVerified = json["emailVerified"] is JsonValue v && v.TryGetValue<bool>(out var b) && b,
        GivenName = Str(json, "givenName"),
        FamilyName = Str(json, "familyName"),
        Name = Str(json, "name"),
        Role = Str(json, "role") ?? "",
        Groups = json["groups"] is JsonArray groups
            ? groups.OfType<JsonValue>().Select(g => g.GetValue<string>()).ToList()
            : [],
        DirectoryUserId = Str(json, "directoryUserId"),
        DirectoryId = Str(json, "directoryId"),
        AuthTime = DateTimeOffset.FromUnixTimeSeconds(json["authTime"] is JsonValue t && t.TryGetValue<long>(out var s) ? s : 0),
        IdpAttributes = json["idp"] as JsonObject is { } idp ? idp.DeepClone().AsObject() : new JsonObject(),
        SessionId = Str(json, "sid"),
    };

    private static string? Str(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public override string ToString() => $"SignedInUser {{ Subject = {Subject}, TenantId = {TenantId} }}";
}

/// <summary>
/// The <c>sub</c> claim: stable per user and tenant, the same through every connection of the
/// tenant, and revealing nothing (a hash of the tenant id and the lower-cased email).
/// </summary>
public static class SubjectIdentifier
{
    public static string For(TenantId tenantId, string email) =>
        "sub_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            "sso-sub|" + tenantId.Value + "|" + email.Trim().ToLowerInvariant())))[..40];
}
