using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
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

    public static string NewValue() => "sso_ac_" + Base64Url.Encode(RandomNumberGenerator.GetBytes(32));

    public static string HashOf(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    public TableEntity ToEntity(string codeHash) => new(AuthorizationCodeStore.PartitionOf(ClientId, codeHash), TableKey.Row("code", codeHash))
    {
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
        ClientId = new ClientId(entity.PartitionKey.Split('|')[0]),
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

/// <summary>
/// Authorization codes (table "authorizationcodes", PartitionKey = the client the code was issued
/// to and the first byte of the code's hash (<see cref="PartitionOf"/>), RowKey <c>code|sha256(code)</c>). Only the hash is stored; a code is redeemed
/// once: read, then delete under the ETag, so of two concurrent redemptions one wins.
/// </summary>
public sealed class AuthorizationCodeStore(TableStorage storage, Outbox.OutboxPublisher publisher)
{
    public const string TableName = TableNames.AuthorizationCodes;

    /// <summary>
    /// A client's codes spread over 256 partitions by the first byte of the code's hash: with one
    /// client (the usual deployment) every sign-in of every tenant writes here, and one partition
    /// would cap the fleet at about 2,000 entities/s. Refused sign-ins' events spread the same way.
    /// </summary>
    public static string PartitionOf(ClientId clientId, string hash) => clientId.Value + "|" + hash[..2];

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    /// <summary>
    /// Stores the code together with the outbox row of its <c>sso.login</c> event (one partition,
    /// one transaction) and returns the code's value (shown only to the client, in the redirect).
    /// </summary>
    public async Task<string> CreateAsync(AuthorizationCode code, Outbox.EventRecord login, CancellationToken cancellationToken)
    {
        var value = AuthorizationCode.NewValue();
        var table = await TableAsync(cancellationToken);
        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, code.ToEntity(AuthorizationCode.HashOf(value))),
            new(TableTransactionActionType.Add, login.ToOutboxEntity(PartitionOf(code.ClientId, AuthorizationCode.HashOf(value)))),
        ], cancellationToken);
        publisher.Post(TableName, PartitionOf(code.ClientId, AuthorizationCode.HashOf(value)), [login]);
        return value;
    }

    /// <summary>
    /// The code as stored: live (not yet redeemed; the token endpoint redeems it beside its other work),
    /// or the tombstone of a redemption (a replay), or null when unknown.
    /// </summary>
    public async Task<CodeLookup?> FindAsync(ClientId clientId, string code, CancellationToken cancellationToken)
    {
        if (code.Length is 0 or > 256) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(PartitionOf(clientId, AuthorizationCode.HashOf(code)), TableKey.Row("code", AuthorizationCode.HashOf(code)),
            cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        return RedeemedCode.IsTombstone(row.Value!)
            ? new CodeLookup(null, RedeemedCode.FromEntity(row.Value!))
            : new CodeLookup(AuthorizationCode.FromEntity(row.Value!), null);
    }

    /// <summary>
    /// Marks a code read by <see cref="FindAsync"/> as redeemed, under its ETag: of two redemptions,
    /// exactly one gets true. The row becomes a tombstone (no profile, just what a replay must revoke)
    /// that lives a little longer than the code could have, so a second redemption is recognised.
    /// </summary>
    public async Task<bool> RedeemAsync(AuthorizationCode found, string code, RedeemedCode tombstone, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        var hash = AuthorizationCode.HashOf(code);
        try
        {
            await table.UpdateEntityAsync(tombstone.ToEntity(PartitionOf(found.ClientId, hash), TableKey.Row("code", hash)),
                found.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>The code, removed so it cannot be redeemed again; null when unknown or already redeemed.</summary>
    public async Task<AuthorizationCode?> TakeAsync(ClientId clientId, string code, CancellationToken cancellationToken)
    {
        if (code.Length is 0 or > 256) return null;
        var table = await TableAsync(cancellationToken);
        var rowKey = TableKey.Row("code", AuthorizationCode.HashOf(code));
        var partition = PartitionOf(clientId, AuthorizationCode.HashOf(code));
        var row = await table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, cancellationToken: cancellationToken);
        if (!row.HasValue || RedeemedCode.IsTombstone(row.Value!)) return null;
        try
        {
            // The SDK answers a delete of a row that is gone with a 404 response, not an exception.
            if ((await table.DeleteEntityAsync(partition, rowKey, row.Value!.ETag, cancellationToken)).Status == 404) return null;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
        return AuthorizationCode.FromEntity(row.Value);
    }
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
