using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

/// <summary>A tenant's email domains and their DNS verification.</summary>
public static class DomainEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListTenantDomains", "/api/v1/tenants/{tenantId}/domains", ["GET"], AdminApi.Require(ListAsync)),
        new("VerifyTenantDomain", "/api/v1/tenants/{tenantId}/domains/{domain}/verify", ["POST"], AdminApi.Require(VerifyAsync)),
    ];

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var claims = await context.RequestServices.GetRequiredService<TenantStore>().ListClaimsAsync(tenant, context.RequestAborted);
        return JsonResults.Ok(new DomainList(claims.Select(c => c.ToView()).ToArray()), SsoJsonContext.Default.DomainList);
    }

    private static async Task<IResult> VerifyAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var raw = context.RouteString("domain");
        var normalized = DomainName.Normalize(raw);
        if (!normalized.IsSuccess || !tenant.Domains.Contains(normalized.Value))
            return ProblemResults.Write(Problem.NotFound("domain of this tenant", raw));

        var store = context.RequestServices.GetRequiredService<TenantStore>();
        var resolver = context.RequestServices.GetRequiredService<DnsTxtResolver>();
        var clock = context.RequestServices.GetRequiredService<TimeProvider>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindClaimAsync(normalized.Value, context.RequestAborted) is not { } before || before.TenantId != tenant.Id)
                return ProblemResults.Write(Problem.NotFound("domain of this tenant", raw));
            var lookup = await resolver.LookupAsync(before.ChallengeRecordName, context.RequestAborted);
            var now = clock.GetUtcNow();
            var found = lookup.Values.Any(v => v.Trim() == before.Challenge);
            var after = found
                ? before with
                {
                    Status = DomainStatus.Verified, VerifiedAt = before.VerifiedAt ?? now, LastCheckedAt = now, VerificationLostAt = null,
                }
                : before with { LastCheckedAt = now };
            switch (await store.SaveClaimAsync(before, after, context.RequestAborted))
            {
                case SaveOutcome.Saved when found:
                    return JsonResults.Ok(after.ToView(), SsoJsonContext.Default.DomainView);
                case SaveOutcome.Saved:
                    return ProblemResults.Write(Unverified(before, lookup));
                case SaveOutcome.NotFound:
                    return ProblemResults.Write(Problem.NotFound("domain of this tenant", raw));
            }
        }
        return ProblemResults.Write(Problem.Conflict("The domain kept changing while it was verified; retry the request."));
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

    private static async Task<Tenant?> FindTenantAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static IResult TenantNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));
}
