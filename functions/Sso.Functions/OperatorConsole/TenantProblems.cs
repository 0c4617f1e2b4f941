using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Deprovisioning;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Functions.Webhooks;

namespace Sso.Functions.OperatorConsole;

/// <summary>One thing an operator should look at: its tenant (null for what belongs to none), what and how bad.</summary>
public sealed record TenantProblem(string? TenantId, string? TenantName, string Kind, string Severity, string Detail, string? Link);

/// <summary>
/// The overview's "tenants with problems", read from what the features already keep: IdP
/// certificates that expire within 30 days (<see cref="CertificateExpiryCheck"/>), domains still
/// waiting for their DNS proof, webhooks that fail or were disabled, and holds waiting for a
/// decision. Each is one query (every connection; the pending domain claims; every webhook; the
/// undecided guards), so a page view costs four reads whatever the audit trail holds.
/// </summary>
public sealed class TenantProblems(ConnectionStore connections, TenantStore tenants, WebhookStore webhooks, DeprovisionHolds holds,
    TimeProvider clock)
{
    public const string ExpiringCertificate = "certificate";
    public const string UnverifiedDomain = "domain";
    public const string FailingWebhook = "webhook";
    public const string HeldDeprovisioning = "hold";

    public async Task<IReadOnlyList<TenantProblem>> ListAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var found = new List<(string? TenantId, string Kind, string Severity, string Detail, string? Link)>();
        var certificates = Task.Run(async () =>
        {
            var expiring = new List<(string?, string, string, string, string?)>();
            await foreach (var connection in connections.ListAllAsync(cancellationToken))
                foreach (var status in CertificateExpiryCheck.Statuses(connection, now).Where(s => s.ExpiresSoon))
                    expiring.Add((connection.TenantId.Value, ExpiringCertificate, status.Expired ? "bad" : "warn",
                        $"{connection.Name ?? connection.Id.Value}: IdP certificate {(status.Expired ? "expired" : "expires")} "
                        + $"{status.NotAfter.UtcDateTime:yyyy-MM-dd} ({Math.Floor((status.NotAfter - now).TotalDays)} days)",
                        $"{ConsoleLayout.Base}/tenants/{connection.TenantId.Value}"));
            return expiring;
        }, cancellationToken);
        var pending = tenants.ListPendingClaimsAsync(cancellationToken);
        var hooks = webhooks.ListAsync(cancellationToken);
        var undecided = holds.ListUndecidedAsync(cancellationToken);
        await Task.WhenAll(certificates, pending, hooks, undecided);

        found.AddRange(certificates.Result);
        found.AddRange(pending.Result.Select(claim => ((string?)claim.TenantId.Value, UnverifiedDomain, "warn",
            $"{claim.Domain} is not verified: publish TXT {claim.ChallengeRecordName}", (string?)$"{ConsoleLayout.Base}/tenants/{claim.TenantId.Value}")));
        foreach (var webhook in hooks.Result.Where(w => (!w.Enabled && w.DisabledReason is not null) || w.ConsecutiveFailures > 0))
            found.Add((webhook.TenantId, FailingWebhook, webhook.Enabled ? "warn" : "bad",
                webhook.Enabled
                    ? $"{webhook.Url}: {webhook.ConsecutiveFailures} failed deliveries in a row"
                      + (webhook.FailingSince is { } since ? $" since {since.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : "")
                    : $"{webhook.Url}: disabled ({webhook.DisabledReason})",
                $"{ConsoleLayout.Base}/events#{webhook.Id.Value}"));
        foreach (var hold in undecided.Result)
            found.Add((hold["tenantId"]?.GetValue<string>(), HeldDeprovisioning, "bad",
                $"Directory {hold["directoryId"]?.GetValue<string>()}: {hold["deprovisionedUsers"]} of {hold["directoryUsers"]} users' "
                + "deprovisioning held, waiting for a decision",
                $"{ConsoleLayout.Base}/holds"));

        var names = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tenantId in found.Select(f => f.TenantId).OfType<string>().Distinct())
            names[tenantId] = TenantId.TryParse(tenantId, out var id) ? (await tenants.FindCachedAsync(id, cancellationToken))?.Name : null;
        return found
            .OrderBy(f => f.Severity == "bad" ? 0 : 1).ThenBy(f => f.TenantId, StringComparer.Ordinal).ThenBy(f => f.Kind, StringComparer.Ordinal)
            .Select(f => new TenantProblem(f.TenantId, f.TenantId is null ? null : names.GetValueOrDefault(f.TenantId), f.Kind, f.Severity,
                f.Detail, f.Link))
            .ToList();
    }
}
