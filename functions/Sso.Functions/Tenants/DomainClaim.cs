using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

public static class DomainStatus
{
    public const string Pending = "pending";
    public const string Verified = "verified";
}

/// <summary>
/// The row that gives an email domain to one tenant, and the proof that the tenant controls it:
/// a TXT record <c>_sso-challenge.&lt;domain&gt;</c> holding <see cref="Challenge"/>.
/// </summary>
public sealed record DomainClaim(
    string Domain,
    TenantId TenantId,
    string Status,
    string Challenge,
    DateTimeOffset? VerifiedAt,
    DateTimeOffset? LastCheckedAt,
    DateTimeOffset? VerificationLostAt,
    ETag ETag = default)
{
    public string ChallengeRecordName => "_sso-challenge." + Domain;

    public bool IsVerified => Status == DomainStatus.Verified;

    public static DomainClaim New(string domain, TenantId tenantId) =>
        new(domain, tenantId, DomainStatus.Pending, "sso-verify-" + Ids.New("")[..26], null, null, null);

    public TableEntity ToEntity() => new(TenantStore.DomainPartition, TableKey.Escape(Domain))
    {
        ["TenantId"] = TenantId.Value,
        ["Domain"] = Domain,
        ["Status"] = Status,
        ["Challenge"] = Challenge,
        ["VerifiedAt"] = VerifiedAt,
        ["LastCheckedAt"] = LastCheckedAt,
        ["VerificationLostAt"] = VerificationLostAt,
    };

    public static DomainClaim FromEntity(TableEntity entity) => new(
        entity.GetString("Domain"),
        new TenantId(entity.GetString("TenantId")),
        entity.GetString("Status") ?? DomainStatus.Pending,
        entity.GetString("Challenge") ?? "",
        entity.GetDateTimeOffset("VerifiedAt"),
        entity.GetDateTimeOffset("LastCheckedAt"),
        entity.GetDateTimeOffset("VerificationLostAt"),
        entity.ETag);

    public DomainView ToView() => new(Domain, Status, Challenge, ChallengeRecordName, VerifiedAt, LastCheckedAt, VerificationLostAt);
}

public sealed record DomainView(
    string Domain, string Status, string Challenge, string ChallengeRecord, DateTimeOffset? VerifiedAt,
    DateTimeOffset? LastCheckedAt, DateTimeOffset? VerificationLostAt);

public sealed record DomainList(DomainView[] Data);
