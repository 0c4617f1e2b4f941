using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>An access token as userinfo reads it back.</summary>
public sealed record IssuedAccessToken(SignedInUser User, ClientId ClientId, string Scope, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// Access tokens (table "accesstokens", PartitionKey = tenant id). A token is opaque:
/// <c>sso_at_</c>, the tenant id, <c>.</c> and 256 random bits; only its SHA-256 hash is a key.
/// Revocation is a per-user marker row (<c>revokedsub|…</c> or <c>revokeduser|…</c>) holding
/// the instant: a token issued at or before it is refused at once, without finding every token.
/// Logout marks one session (<c>revokedsid|…</c>): every token carrying that <c>sid</c> is refused.
/// A token of a directory user also reads the user's row beside the markers: a SCIM DELETE or
/// deactivation refuses the user's tokens from its commit on, not once the deprovisioning queue
/// has written the marker (which stays, for tokens issued before a later reactivation).
/// </summary>
public sealed class AccessTokenStore(TableStorage storage, DirectorySync.DirectoryUserStore directories)
{
    public const string Prefix = "sso_at_";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.AccessTokens, cancellationToken);

    public Task<string> CreateAsync(IssuedAccessToken token, CancellationToken cancellationToken) =>
        CreateAsync(token, NewValue(token.User.TenantId), cancellationToken);

    /// <summary>A fresh token value for <paramref name="tenantId"/>, for a caller that must know its hash before it is stored.</summary>
    public static string NewValue(TenantId tenantId) => Prefix + tenantId.Value + "." + Base64Url.Encode(RandomNumberGenerator.GetBytes(32));

    public async Task<string> CreateAsync(IssuedAccessToken token, string value, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.AddEntityAsync(new TableEntity(token.User.TenantId.Value, TableKey.Row("token", HashOf(value)))
        {
            ["ClientId"] = token.ClientId.Value,
            ["Scope"] = token.Scope,
            ["User"] = token.User.ToJson().ToJsonString(),
            ["Subject"] = token.User.Subject,
            ["IssuedAt"] = token.IssuedAt,
            ["ExpiresAt"] = token.ExpiresAt,
        }, cancellationToken);
        return value;
    }

    /// <summary>The token's grant, or null when it is unknown, expired or revoked.</summary>
    public async Task<IssuedAccessToken?> FindValidAsync(string presented, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!TryReadTenant(presented, out var tenantId)) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(tenantId.Value, TableKey.Row("token", HashOf(presented)),
            cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var entity = row.Value!;
        var token = new IssuedAccessToken(
            SignedInUser.FromJson(JsonNode.Parse(entity.GetString("User"))!.AsObject()),
            new ClientId(entity.GetString("ClientId")),
            entity.GetString("Scope") ?? "openid",
            entity.GetDateTimeOffset("IssuedAt") ?? default,
            entity.GetDateTimeOffset("ExpiresAt") ?? default);
        if (now >= token.ExpiresAt) return null;
        return await IsRevokedAsync(table, tenantId, token.User, token.IssuedAt, cancellationToken) ? null : token;
    }

    /// <summary>
    /// Whether a grant issued at <paramref name="issuedAt"/> to this user has been revoked since:
    /// the token endpoint asks it before it turns a pending authorization code into tokens.
    /// </summary>
    public async Task<bool> IsRevokedAsync(SignedInUser user, DateTimeOffset issuedAt, CancellationToken cancellationToken) =>
        await IsRevokedAsync(await TableAsync(cancellationToken), user.TenantId, user, issuedAt, cancellationToken);

    /// <summary>The subject, directory-user and session markers, read side by side (userinfo waits on them).</summary>
    private async Task<bool> IsRevokedAsync(TableClient table, TenantId tenantId, SignedInUser user, DateTimeOffset issuedAt,
        CancellationToken cancellationToken)
    {
        var userGone = user is { DirectoryId: { } directoryId, DirectoryUserId: { } directoryUserId }
            ? IsNoLongerActiveAsync(new DirectorySync.DirectoryId(directoryId), directoryUserId, cancellationToken)
            : Task.FromResult(false);
        var none = Task.FromResult<DateTimeOffset?>(null);
        var bySubject = RevokedAtAsync(table, tenantId, RevokedSubjectKey(user.Subject), cancellationToken);
        var byUser = user.DirectoryUserId is { } userId
            ? RevokedAtAsync(table, tenantId, RevokedDirectoryUserKey(userId), cancellationToken)
            : none;
        var bySession = user.SessionId is { } sid ? RevokedAtAsync(table, tenantId, RevokedSessionKey(sid), cancellationToken) : none;
        await Task.WhenAll(bySubject, byUser, bySession, userGone);
        return userGone.Result
            || bySubject.Result is { } subjectRevokedAt && issuedAt <= subjectRevokedAt
            || byUser.Result is { } userRevokedAt && issuedAt <= userRevokedAt
            || bySession.Result is not null;
    }

    private async Task<bool> IsNoLongerActiveAsync(DirectorySync.DirectoryId directoryId, string userId, CancellationToken cancellationToken) =>
        await directories.FindUserAsync(directoryId, userId, cancellationToken) is not { State: DirectorySync.UserState.Active };

    /// <summary>Refuses every access token issued to this <c>sub</c> up to <paramref name="now"/>.</summary>
    public Task RevokeSubjectAsync(TenantId tenantId, string subject, DateTimeOffset now, CancellationToken cancellationToken) =>
        MarkAsync(tenantId, RevokedSubjectKey(subject), now, cancellationToken);

    /// <summary>Refuses every access token of a directory user (deprovisioning) up to <paramref name="now"/>.</summary>
    public Task RevokeDirectoryUserAsync(TenantId tenantId, string directoryUserId, DateTimeOffset now, CancellationToken cancellationToken) =>
        MarkAsync(tenantId, RevokedDirectoryUserKey(directoryUserId), now, cancellationToken);

    /// <summary>
    /// Ends one sign-in session (logout): every token of it is refused from now on, whenever
    /// it was issued, since a session id is never reused.
    /// </summary>
    public Task RevokeSessionAsync(TenantId tenantId, string sessionId, DateTimeOffset now, CancellationToken cancellationToken) =>
        MarkAsync(tenantId, RevokedSessionKey(sessionId), now, cancellationToken);

    /// <summary>Removes one access token by its hash (a replayed code's token when it carries no session).</summary>
    public async Task RevokeTokenAsync(TenantId tenantId, string tokenHash, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.DeleteEntityAsync(tenantId.Value, TableKey.Row("token", tokenHash), ETag.All, cancellationToken);
    }

    private async Task MarkAsync(TenantId tenantId, string rowKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        // A marker only moves forward in time, so an upsert of the newer instant is safe.
        await table.UpsertEntityAsync(new TableEntity(tenantId.Value, rowKey) { ["RevokedAt"] = now },
            TableUpdateMode.Replace, cancellationToken);
    }

    private static async Task<DateTimeOffset?> RevokedAtAsync(TableClient table, TenantId tenantId, string rowKey,
        CancellationToken cancellationToken)
    {
        var marker = await table.GetEntityIfExistsAsync<TableEntity>(tenantId.Value, rowKey, cancellationToken: cancellationToken);
        return marker.HasValue ? marker.Value!.GetDateTimeOffset("RevokedAt") : null;
    }

    private static string RevokedSubjectKey(string subject) => TableKey.Row("revokedsub", subject);

    private static string RevokedDirectoryUserKey(string userId) => TableKey.Row("revokeduser", userId);

    private static string RevokedSessionKey(string sessionId) => TableKey.Row("revokedsid", sessionId);

    public static bool TryReadTenant(string? presented, out TenantId tenantId)
    {
        tenantId = default;
        if (presented is not { Length: > 0 and <= 200 } || !presented.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var rest = presented.AsSpan(Prefix.Length);
        var dot = rest.IndexOf('.');
        return dot > 0 && TenantId.TryParse(rest[..dot].ToString(), out tenantId);
    }

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
