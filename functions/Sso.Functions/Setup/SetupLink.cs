using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;

namespace Sso.Functions.Setup;

public static class SetupFeatures
{
    public const string Sso = "sso";
    public const string DirectorySync = "dsync";
    public static readonly IReadOnlyList<string> All = [Sso, DirectorySync];
}

/// <summary>
/// The secret in a setup link's URL fragment: <c>sso_setup_</c>, the tenant id, <c>.</c> and 256 random
/// bits. The tenant id in it names the partition to look in; only the SHA-256 hash of the whole
/// value is stored, as for SCIM tokens, and compared in constant time.
/// </summary>
public static class SetupToken
{
    public const string Prefix = "sso_setup_";

    public static (string Plaintext, byte[] Hash) New(TenantId tenantId)
    {
        var plaintext = Prefix + tenantId.Value + "." + Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        return (plaintext, HashOf(plaintext));
    }

    public static byte[] HashOf(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static bool TryReadTenant(string? token, out TenantId tenantId)
    {
        tenantId = default;
        if (token is not { Length: > 0 and <= 200 } || !token.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var rest = token.AsSpan(Prefix.Length);
        var dot = rest.IndexOf('.');
        if (dot <= 0 || rest.Length - dot - 1 != 43) return false;
        foreach (var c in rest[(dot + 1)..])
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        return TenantId.TryParse(rest[..dot].ToString(), out tenantId);
    }
}

/// <summary>
/// A time-limited, revocable link that lets a customer's IT admin set up SSO and/or directory
/// sync for one tenant. It also holds the wizard's state: the IdP chosen, the connection and
/// directory it made, and the pending and last Test sign-in.
/// </summary>
public sealed record SetupLink
{
    public const string Kind = "link";
    public const string HashKind = "linkhash";

    public required string Id { get; init; }
    public required TenantId TenantId { get; init; }
    public required IReadOnlyList<string> Features { get; init; }
    public required byte[] TokenHash { get; init; }

    /// <summary>Random key of the anti-forgery tokens of this link's forms (HMAC key).</summary>
    public required byte[] CsrfKey { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? CreatedBy { get; init; }

    /// <summary>
    /// The link was handed out as <c>/setup#token</c>. Links of the older <c>/setup/{token}</c> form
    /// had their secret in request paths the platform logs, so they are no longer accepted.
    /// </summary>
    public bool TokenInFragment { get; init; }

    public string? Idp { get; init; }
    public ConnectionId? ConnectionId { get; init; }
    public DirectoryId? DirectoryId { get; init; }

    /// <summary>SHA-256 of the <c>state</c> of the Test sign-in under way.</summary>
    public string? PendingTestStateHash { get; init; }

    /// <summary>What the last Test sign-in received (outcome, claims, raw IdP attributes, role).</summary>
    public JsonObject? LastTest { get; init; }

    public ETag ETag { get; init; }

    public string RowKey => TableKey.Row(Kind, Id);

    public bool Has(string feature) => Features.Contains(feature);

    public string Status(DateTimeOffset now) => RevokedAt is not null ? "revoked" : now >= ExpiresAt ? "expired" : "active";

    public TableEntity ToEntity() => new(TenantId.Value, RowKey)
    {
        ["LinkId"] = Id,
        ["Features"] = string.Join(',', Features),
        ["TokenHash"] = Convert.ToHexStringLower(TokenHash),
        ["CsrfKey"] = Convert.ToBase64String(CsrfKey),
        ["CreatedAt"] = CreatedAt,
        ["ExpiresAt"] = ExpiresAt,
        ["RevokedAt"] = RevokedAt,
        ["CreatedBy"] = CreatedBy,
        ["TokenInFragment"] = TokenInFragment,
        ["Idp"] = Idp,
        ["ConnectionId"] = ConnectionId?.Value,
        ["DirectoryId"] = DirectoryId?.Value,
        ["PendingTestStateHash"] = PendingTestStateHash,
        ["LastTest"] = LastTest?.ToJsonString(),
    };

    public TableEntity ToHashEntity() => new(TenantId.Value, TableKey.Row(HashKind, Convert.ToHexStringLower(TokenHash)))
    {
        ["LinkId"] = Id,
    };

    public static SetupLink FromEntity(TableEntity entity) => new()
    {
        Id = entity.GetString("LinkId"),
        TenantId = new TenantId(entity.PartitionKey),
        Features = (entity.GetString("Features") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        TokenHash = Convert.FromHexString(entity.GetString("TokenHash")),
        CsrfKey = Convert.FromBase64String(entity.GetString("CsrfKey")),
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? default,
        ExpiresAt = entity.GetDateTimeOffset("ExpiresAt") ?? default,
        RevokedAt = entity.GetDateTimeOffset("RevokedAt"),
        CreatedBy = entity.GetString("CreatedBy"),
        TokenInFragment = entity.GetBoolean("TokenInFragment") ?? false,
        Idp = entity.GetString("Idp"),
        ConnectionId = entity.GetString("ConnectionId") is { } c ? new ConnectionId(c) : null,
        DirectoryId = entity.GetString("DirectoryId") is { } d ? new DirectoryId(d) : null,
        PendingTestStateHash = entity.GetString("PendingTestStateHash"),
        LastTest = entity.GetString("LastTest") is { } test ? JsonNode.Parse(test) as JsonObject : null,
        ETag = entity.ETag,
    };

    public JsonObject ToView() => new()
    {
        ["id"] = Id,
        ["tenantId"] = TenantId.Value,
        ["features"] = new JsonArray(Features.Select(f => (JsonNode?)f).ToArray()),
        ["createdAt"] = CreatedAt.ToString("O"),
        ["expiresAt"] = ExpiresAt.ToString("O"),
        ["revokedAt"] = RevokedAt?.ToString("O"),
        ["connectionId"] = ConnectionId?.Value,
        ["directoryId"] = DirectoryId?.Value,
    };

    public override string ToString() => $"SetupLink {{ Id = {Id}, TenantId = {TenantId} }}";
}

