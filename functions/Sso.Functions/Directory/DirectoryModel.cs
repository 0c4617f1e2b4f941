using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.DirectorySync;

public readonly record struct DirectoryId(string Value)
{
    public const string Prefix = "dir_";

    public static DirectoryId New() => new(Ids.New(Prefix));

    public static bool TryParse(string? value, out DirectoryId id)
    {
        id = new DirectoryId(value ?? "");
        return Ids.HasShape(value, Prefix);
    }

    public override string ToString() => Value;
}

public static class DirectoryProviders
{
    public static readonly IReadOnlyList<string> All = ["entra", "okta", "google", "onelogin", "jumpcloud", "generic"];

    /// <summary>Google Workspace through its Directory API: pulled by this service, not pushed over SCIM.</summary>
    public const string GoogleDirectory = "google-directory";
}

/// <summary>A SCIM directory: one customer IdP pushing users and groups into one tenant.</summary>
public sealed record DirectoryRecord(
    DirectoryId Id, TenantId TenantId, string Name, string Provider, DateTimeOffset CreatedAt, ETag ETag = default)
{
    public const string RowKey = "directory";

    public TableEntity ToEntity() => new(Id.Value, RowKey)
    {
        ["TenantId"] = TenantId.Value,
        ["Name"] = Name,
        ["Provider"] = Provider,
        ["CreatedAt"] = CreatedAt,
    };

    public static DirectoryRecord FromEntity(TableEntity entity) => new(
        new DirectoryId(entity.PartitionKey), new TenantId(entity.GetString("TenantId")), entity.GetString("Name"),
        entity.GetString("Provider"), entity.GetDateTimeOffset("CreatedAt") ?? default, entity.ETag);
}

/// <summary>
/// A SCIM bearer token of a directory; only its SHA-256 hash is stored. <see cref="CreatedBy"/> is the
/// admin key id (or setup link id) that issued it; past <see cref="ExpiresAt"/> SCIM refuses it.
/// </summary>
public sealed record DirectoryToken(
    DirectoryId DirectoryId, string Id, string? Name, byte[] Hash, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt,
    ETag ETag = default, string? CreatedBy = null, DateTimeOffset? ExpiresAt = null, DateTimeOffset? ExpiringNotifiedAt = null,
    DateTimeOffset? ExpiredNotifiedAt = null)
{
    public const string Kind = "token";
    public const string HashKind = "tokenHash";

    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } expiresAt && now >= expiresAt;

    public TableEntity ToEntity() => new(DirectoryId.Value, TableKey.Row(Kind, Id))
    {
        ["Name"] = Name,
        ["Hash"] = Convert.ToHexStringLower(Hash),
        ["CreatedAt"] = CreatedAt,
        ["LastUsedAt"] = LastUsedAt,
        ["CreatedBy"] = CreatedBy,
        ["ExpiresAt"] = ExpiresAt,
        ["ExpiringNotifiedAt"] = ExpiringNotifiedAt,
        ["ExpiredNotifiedAt"] = ExpiredNotifiedAt,
    };

    /// <summary>
    /// The lookup row: its key is the hash, so a presented token is found by one point read. It
    /// carries the expiry too, so that one read is all SCIM authentication needs.
    /// </summary>
    public TableEntity ToHashEntity() => new(DirectoryId.Value, TableKey.Row(HashKind, Convert.ToHexStringLower(Hash)))
    {
        ["TokenId"] = Id,
        ["Hash"] = Convert.ToHexStringLower(Hash),
        ["ExpiresAt"] = ExpiresAt,
    };

    public static DirectoryToken FromEntity(TableEntity entity) => new(
        new DirectoryId(entity.PartitionKey), TableKey.Unescape(entity.RowKey[(Kind.Length + 1)..]), entity.GetString("Name"),
        Convert.FromHexString(entity.GetString("Hash")), entity.GetDateTimeOffset("CreatedAt") ?? default,
        entity.GetDateTimeOffset("LastUsedAt"), entity.ETag, entity.GetString("CreatedBy"), entity.GetDateTimeOffset("ExpiresAt"),
        entity.GetDateTimeOffset("ExpiringNotifiedAt"), entity.GetDateTimeOffset("ExpiredNotifiedAt"));
}

public enum UserState { Active, Suspended, Deprovisioned }

/// <summary>
/// A provisioned user. <see cref="Resource"/> is the SCIM resource without <c>id</c> and <c>meta</c>,
/// normalised by the protocol readers. A SCIM DELETE keeps the row as <see cref="Deleted"/> so the
/// management API still shows the user as deprovisioned.
/// </summary>
public sealed record DirectoryUser(
    DirectoryId DirectoryId, string Id, JsonObject Resource, long Version, DateTimeOffset Created, DateTimeOffset LastModified,
    bool Deleted = false, ETag ETag = default)
{
    public const string Kind = "user";
    public const string IdPrefix = "usr_";

    public string UserName => Resource["userName"]?.GetValue<string>() ?? "";
    public string? ExternalId => Resource["externalId"]?.GetValue<string>();
    public bool Active => Resource["active"]?.GetValue<bool>() ?? true;

    public UserState State => Deleted ? UserState.Deprovisioned : Active ? UserState.Active : UserState.Suspended;

    public TableEntity ToEntity() => new(DirectoryId.Value, TableKey.Row(Kind, Id))
    {
        ["Resource"] = Resource.ToJsonString(),
        ["UserName"] = UserName,
        ["ExternalId"] = ExternalId,
        ["Active"] = Active,
        ["Deleted"] = Deleted,
        ["Version"] = Version,
        ["Created"] = Created,
        ["LastModified"] = LastModified,
    };

    public static DirectoryUser FromEntity(TableEntity entity) => FromEntity(entity, TableKey.Unescape(entity.RowKey[(Kind.Length + 1)..]));

    /// <summary>From the user row, or from a row that carries a copy of it (the userName index row) with the id given.</summary>
    public static DirectoryUser FromEntity(TableEntity entity, string id) => new(
        new DirectoryId(entity.PartitionKey), id,
        JsonNode.Parse(entity.GetString("Resource"))!.AsObject(), entity.GetInt64("Version") ?? 1,
        entity.GetDateTimeOffset("Created") ?? default, entity.GetDateTimeOffset("LastModified") ?? default,
        entity.GetBoolean("Deleted") ?? false, entity.ETag);
}

/// <summary>
/// A provisioned group; its members are rows of their own (<c>member|grp|usr</c>), never a list here.
/// <see cref="Version"/> counts attribute changes (under the row's ETag); a member-only change does
/// not rewrite the row under its ETag but merges a fresh <see cref="MembersRevision"/> into it, so
/// the SCIM version (<see cref="VersionTag"/>) still changes with every membership change while
/// parallel member adds never wait on each other.
/// </summary>
public sealed record DirectoryGroup(
    DirectoryId DirectoryId, string Id, JsonObject Resource, long Version, DateTimeOffset Created, DateTimeOffset LastModified,
    ETag ETag = default, string? MembersRevision = null)
{
    public const string Kind = "group";
    public const string IdPrefix = "grp_";

    public string DisplayName => Resource["displayName"]?.GetValue<string>() ?? "";
    public string? ExternalId => Resource["externalId"]?.GetValue<string>();

    /// <summary>The opaque SCIM version: the attribute version, and the membership revision once members changed.</summary>
    public string VersionTag => MembersRevision is { } revision
        ? Version.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + revision
        : Version.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A new membership revision: random, so two parallel member changes never name the same version.</summary>
    public static string NewMembersRevision() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    public TableEntity ToEntity() => new(DirectoryId.Value, TableKey.Row(Kind, Id))
    {
        ["Resource"] = Resource.ToJsonString(),
        ["DisplayName"] = DisplayName,
        ["ExternalId"] = ExternalId,
        ["Version"] = Version,
        ["Created"] = Created,
        ["LastModified"] = LastModified,
        ["MembersRevision"] = MembersRevision,
    };

    /// <summary>What a member-only change merges into the group row: nothing else of the row is written.</summary>
    public TableEntity ToMembersTouchEntity() => new(DirectoryId.Value, TableKey.Row(Kind, Id))
    {
        ["LastModified"] = LastModified,
        ["MembersRevision"] = MembersRevision,
    };

    public static DirectoryGroup FromEntity(TableEntity entity) => new(
        new DirectoryId(entity.PartitionKey), TableKey.Unescape(entity.RowKey[(Kind.Length + 1)..]),
        JsonNode.Parse(entity.GetString("Resource"))!.AsObject(), entity.GetInt64("Version") ?? 1,
        entity.GetDateTimeOffset("Created") ?? default, entity.GetDateTimeOffset("LastModified") ?? default, entity.ETag,
        entity.GetString("MembersRevision"));
}

/// <summary>One direct membership; a row per pair, and its mirror <c>memberOf|usr|grp</c> in the same batch.</summary>
public sealed record Membership(string GroupId, string MemberId, string? MemberUserName, ETag ETag = default)
{
    public const string Kind = "member";
    public const string ReverseKind = "memberOf";

    public static string RowKey(string groupId, string memberId) => $"{Kind}|{TableKey.Escape(groupId)}|{TableKey.Escape(memberId)}";

    public static string ReverseRowKey(string memberId, string groupId) => $"{ReverseKind}|{TableKey.Escape(memberId)}|{TableKey.Escape(groupId)}";
}
