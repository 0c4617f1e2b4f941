using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

/// <summary>
/// Re-checks verified domains daily. A domain whose challenge record disappeared is flagged
/// (<see cref="DomainClaim.VerificationLostAt"/>), not dropped: a DNS hiccup must not lock a
/// customer out of sign-in, and an administrator decides what happens next.
/// </summary>
public static partial class DomainReverification
{
    public static TimerFunction Function { get; } = new("DomainReverification", "0 0 3 * * *", RunAsync);

    private static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var lost = await RecheckAsync(services.GetRequiredService<TenantStore>(), services.GetRequiredService<DnsTxtResolver>(),
            services.GetRequiredService<Outbox.EventFeedStore>(), services.GetRequiredService<TimeProvider>().GetUtcNow(), cancellationToken);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Tenants");
        foreach (var claim in lost) LogLost(logger, claim.TenantId.Value);
    }

    public const string VerificationLostEvent = "domain.verification_lost";

    /// <returns>The claims that lost their verification in this run; each gets a domain.verification_lost event.</returns>
    public static async Task<IReadOnlyList<DomainClaim>> RecheckAsync(TenantStore store, DnsTxtResolver resolver, Outbox.EventFeedStore events,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lost = new List<DomainClaim>();
        foreach (var claim in await store.ListVerifiedClaimsAsync(cancellationToken))
        {
            var lookup = await resolver.LookupAsync(claim.ChallengeRecordName, cancellationToken);
            var present = lookup.Values.Any(v => v.Trim() == claim.Challenge);
            var after = claim with
            {
                LastCheckedAt = now,
                VerificationLostAt = present ? null : claim.VerificationLostAt ?? now,
            };
            if (await store.SaveClaimAsync(claim, after, cancellationToken) == SaveOutcome.Saved
                && !present && claim.VerificationLostAt is null)
            {
                lost.Add(after);
                await events.AppendAsync(new Outbox.EventRecord(Outbox.EventRecord.NewId(now), VerificationLostEvent, claim.TenantId.Value,
                    null, null, now, new System.Text.Json.Nodes.JsonObject
                    {
                        ["domain"] = claim.Domain,
                        ["challengeRecord"] = claim.ChallengeRecordName,
                        ["found"] = lookup.Problem ?? string.Join(", ", lookup.Values.Take(5)),
                    }), cancellationToken);
            }
        }
        return lost;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A verified domain of tenant {TenantId} lost its challenge record")]
    private static partial void LogLost(ILogger logger, string tenantId);
}
