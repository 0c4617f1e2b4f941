using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

/// <summary>
/// Checks a tenant's domain for its challenge TXT record on request: the management API's
/// <c>POST …/domains/{domain}/verify</c> and the console's Verify button.
/// </summary>
public sealed class DomainVerification(TenantStore store, DnsTxtResolver resolver, TimeProvider clock)
{
    /// <summary>The verified claim, or the problem (not this tenant's domain; record missing: <c>domain-not-verified</c>).</summary>
    public async Task<Result<DomainClaim, Problem>> VerifyAsync(Tenant tenant, string domain, CancellationToken cancellationToken)
    {
        var normalized = DomainName.Normalize(domain);
        if (!normalized.IsSuccess || !tenant.Domains.Contains(normalized.Value))
            return Problem.NotFound("domain of this tenant", domain);

        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindClaimAsync(normalized.Value, cancellationToken) is not { } before || before.TenantId != tenant.Id)
                return Problem.NotFound("domain of this tenant", domain);
            var lookup = await resolver.LookupAsync(before.ChallengeRecordName, cancellationToken);
            var now = clock.GetUtcNow();
            var found = lookup.Values.Any(v => v.Trim() == before.Challenge);
            var after = found
                ? before with
                {
                    Status = DomainStatus.Verified, VerifiedAt = before.VerifiedAt ?? now, LastCheckedAt = now, VerificationLostAt = null,
                }
                : before with { LastCheckedAt = now };
            switch (await store.SaveClaimAsync(before, after, cancellationToken))
            {
                case SaveOutcome.Saved when found:
                    return after;
                case SaveOutcome.Saved:
                    return Unverified(before, lookup);
                case SaveOutcome.NotFound:
                    return Problem.NotFound("domain of this tenant", domain);
            }
        }
        return Problem.Conflict("The domain kept changing while it was verified; retry the request.");
    }

    private static Problem Unverified(DomainClaim claim, TxtLookup lookup)
    {
        var found = lookup.Values.Length == 0
            ? lookup.Problem ?? $"there is no TXT record at {claim.ChallengeRecordName}"
            : $"the TXT values at {claim.ChallengeRecordName} are {string.Join(", ", lookup.Values.Take(10).Select(v => $"'{Truncate(v)}'"))}";
        return new Problem(422, "domain-not-verified", "The domain's challenge record was not found",
            $"Expected a TXT record at {claim.ChallengeRecordName} with the value '{claim.Challenge}'; {found}.");
    }

    private static string Truncate(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
