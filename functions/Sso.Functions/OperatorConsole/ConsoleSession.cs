using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Audit;
using Sso.Functions.OAuth;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// An operator's console session. The browser holds a random id in an HttpOnly, Secure,
/// SameSite=Strict cookie; the row holds only its SHA-256 hash, so a read of the table signs
/// nobody in. It ends at <see cref="AbsoluteLifetime"/> after sign-in, or after
/// <see cref="IdleLifetime"/> without a request, or at sign-out (the row is deleted).
/// </summary>
public sealed record ConsoleSession
{
    public static readonly TimeSpan AbsoluteLifetime = TimeSpan.FromHours(8);
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromHours(1);

    /// <summary>How stale <see cref="LastSeenAt"/> may get before a request writes it again: one write per few minutes, not per page.</summary>
    public static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(5);

    public required string IdHash { get; init; }

    /// <summary>Who signed in: <c>operator</c> with the admin key's id or the OpenID Connect email.</summary>
    public required AuditActor Operator { get; init; }

    /// <summary>How the operator signed in: <c>admin_key</c> or <c>oidc</c>.</summary>
    public required string Method { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset LastSeenAt { get; init; }
    public ETag ETag { get; init; }

    public DateTimeOffset ExpiresAt => CreatedAt + AbsoluteLifetime;

    public bool IsLive(DateTimeOffset now) => now < ExpiresAt && now < LastSeenAt + IdleLifetime;

    public static (string Id, string IdHash) NewId()
    {
        var id = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        return (id, HashOf(id));
    }

    public static string HashOf(string id) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

    /// <summary>
    /// The anti-forgery token of this session's forms: derived from the cookie's secret id, so it is
    /// stored nowhere and a page from another session (or another site) cannot supply it.
    /// </summary>
    public static string CsrfTokenOf(string id) =>
        Base64Url.Encode(HMACSHA256.HashData(Encoding.UTF8.GetBytes(id), "console-form"u8));

    public TableEntity ToEntity() => new(IdHash, "session")
    {
        ["OperatorKind"] = Operator.Kind,
        ["OperatorId"] = Operator.Id,
        ["Method"] = Method,
        ["CreatedAt"] = CreatedAt,
        ["LastSeenAt"] = LastSeenAt,
    };

    public static ConsoleSession FromEntity(TableEntity entity) => new()
    {
        IdHash = entity.PartitionKey,
        Operator = new AuditActor(entity.GetString("OperatorKind"), entity.GetString("OperatorId")),
        Method = entity.GetString("Method"),
        CreatedAt = entity.GetDateTimeOffset("CreatedAt")!.Value,
        LastSeenAt = entity.GetDateTimeOffset("LastSeenAt")!.Value,
        ETag = entity.ETag,
    };
}
