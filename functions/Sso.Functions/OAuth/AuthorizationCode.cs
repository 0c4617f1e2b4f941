using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>An issued authorization code, bound to its client and redirect URI.</summary>
public sealed record AuthorizationCode
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    public required ClientId ClientId { get; init; }
    public required string RedirectUri { get; init; }
    public string? CodeChallenge { get; init; }
    public string? CodeChallengeMethod { get; init; }
    public string? Nonce { get; init; }
    public required string Scope { get; init; }
    public required SignedInUser User { get; init; }
    public required DateTimeOffset IssuedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public ETag ETag { get; init; }

    private const string Prefix = "sso_ac_";

    public static string NewValue() => Prefix + Base64Url.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// A code stored in its connection's partition (<see cref="ConnectionSignInStore"/>): <c>sso_ac_&lt;connection id&gt;.</c>
    /// plus 256 random bits, so the token endpoint finds it with one point read.
    /// </summary>
    public static string NewValue(ConnectionId connectionId) => Prefix + connectionId.Value + "." + Base64Url.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>The connection whose partition holds the code, read from its shape; false for a code of the client's partitions.</summary>
    public static bool TryReadConnection(string code, out ConnectionId connectionId)
    {
        connectionId = default;
        if (!code.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var dot = code.IndexOf('.', Prefix.Length);
        return dot > 0 && ConnectionId.TryParse(code[Prefix.Length..dot], out connectionId);
    }

    public static string HashOf(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    public TableEntity ToEntity(string codeHash) => ToEntity(AuthorizationCodeStore.PartitionOf(ClientId, codeHash), codeHash);

    /// <summary>The row in any partition: it names its client, which a partition of the client's own also does.</summary>
    public TableEntity ToEntity(string partitionKey, string codeHash) => new(partitionKey, TableKey.Row("code", codeHash))
    {
        ["ClientId"] = ClientId.Value,
        ["RedirectUri"] = RedirectUri,
        ["CodeChallenge"] = CodeChallenge,
        ["CodeChallengeMethod"] = CodeChallengeMethod,
        ["Nonce"] = Nonce,
        ["Scope"] = Scope,
        ["User"] = User.ToJson().ToJsonString(),
        ["TenantId"] = User.TenantId.Value,
        ["IssuedAt"] = IssuedAt,
        ["ExpiresAt"] = ExpiresAt,
    };

    public static AuthorizationCode FromEntity(TableEntity entity) => new()
    {
        ClientId = new ClientId(entity.GetString("ClientId") ?? entity.PartitionKey.Split('|')[0]),
        RedirectUri = entity.GetString("RedirectUri"),
        CodeChallenge = entity.GetString("CodeChallenge"),
        CodeChallengeMethod = entity.GetString("CodeChallengeMethod"),
        Nonce = entity.GetString("Nonce"),
        Scope = entity.GetString("Scope") ?? "openid",
        User = SignedInUser.FromJson(JsonNode.Parse(entity.GetString("User"))!.AsObject()),
        IssuedAt = entity.GetDateTimeOffset("IssuedAt") ?? default,
        ExpiresAt = entity.GetDateTimeOffset("ExpiresAt") ?? default,
        ETag = entity.ETag,
    };

    public override string ToString() => $"AuthorizationCode {{ ClientId = {ClientId} }}";
}

/// <summary>What <see cref="AuthorizationCodeStore.FindAsync"/> found: a live code or the tombstone of a redeemed one.</summary>
public sealed record CodeLookup(AuthorizationCode? Live, RedeemedCode? Redeemed);

/// <summary>
/// What is left of a redeemed (or failed) code: RFC 6749 §4.1.2 says a code used twice should
/// revoke the tokens issued from it, so the row keeps the sign-in session every one of those
/// tokens carries, and the hash of the access token, until <see cref="ExpiresAt"/>.
/// </summary>
public sealed record RedeemedCode(TenantId TenantId, string? SessionId, string? AccessTokenHash, DateTimeOffset RedeemedAt, DateTimeOffset ExpiresAt)
{
    /// <summary>A replay is recognised this long after the code itself expired (clock skew, slow retries).</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    public static bool IsTombstone(TableEntity entity) => entity.GetDateTimeOffset("RedeemedAt") is not null;

    public TableEntity ToEntity(string partitionKey, string rowKey) => new(partitionKey, rowKey)
    {
        ["TenantId"] = TenantId.Value,
        ["SessionId"] = SessionId,
        ["AccessTokenHash"] = AccessTokenHash,
        ["RedeemedAt"] = RedeemedAt,
        // The cleanup sweep removes code rows by ExpiresAt, tombstones included.
        ["ExpiresAt"] = ExpiresAt,
    };

    public static RedeemedCode FromEntity(TableEntity entity) => new(
        new TenantId(entity.GetString("TenantId") ?? ""),
        entity.GetString("SessionId"),
        entity.GetString("AccessTokenHash"),
        entity.GetDateTimeOffset("RedeemedAt") ?? default,
        entity.GetDateTimeOffset("ExpiresAt") ?? default);
}
