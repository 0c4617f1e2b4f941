using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Setup;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Protocols.Saml;

namespace Sso.Functions.OperatorConsole;

/// <summary>Everything the tenant page shows; sections the tenant has none of are empty.</summary>
public sealed record TenantOverviewModel(
    Tenant Tenant,
    IReadOnlyList<DomainClaim> Domains,
    IReadOnlyList<SetupLink> SetupLinks,
    IReadOnlyList<ConnectionSummary> Connections,
    IReadOnlyList<DirectorySummary> Directories,
    DateTimeOffset Now);

/// <summary>A connection with its certificates' expiry and its latest sign-in and refusal (of the recent audit rows).</summary>
public sealed record ConnectionSummary(
    Connection Connection,
    IReadOnlyList<CertificateStatus> Certificates,
    JsonObject? LastSignIn,
    JsonObject? LastRefusal);

/// <summary>A directory with its tokens, counts, latest SCIM request (of the recent audit rows) and Google sync state.</summary>
public sealed record DirectorySummary(
    DirectoryRecord Directory,
    IReadOnlyList<DirectoryToken> Tokens,
    int ActiveUsers,
    string Groups,
    JsonObject? LastScimRequest,
    DirectorySyncState? Sync);

/// <summary>
/// The console's read of one tenant (<see cref="TenantPage"/> renders it): the tenant, its domains,
/// setup links, connections and directories with what an operator checks first. No HTTP, no change.
/// </summary>
public sealed class TenantOverview(TenantStore tenants, SetupLinkStore setupLinks, ConnectionStore connections, AuditStore audit,
    DirectoryRecordStore directories, DirectoryUserStore users, DirectoryGroupStore groups, DirectorySyncStore syncStates, TimeProvider clock)
{
    /// <summary>How many recent audit rows of each kind are read for "last sign-in", "last refusal" and "last SCIM request".</summary>
    public const int RecentAuditRows = 200;

    /// <summary>How many groups are counted before the count shows as "200+".</summary>
    public const int GroupCountLimit = 200;

    public Task<Tenant?> FindTenantAsync(TenantId id, CancellationToken cancellationToken) => tenants.FindAsync(id, cancellationToken);

    /// <summary>A directory of <paramref name="tenant"/> by a raw id from a URL; null when malformed, unknown or another tenant's.</summary>
    public async Task<DirectoryRecord?> FindOwnedDirectoryAsync(Tenant tenant, string rawDirectoryId, CancellationToken cancellationToken)
    {
        if (!DirectoryId.TryParse(rawDirectoryId, out var id)) return null;
        var directory = await directories.FindDirectoryAsync(id, cancellationToken);
        return directory is not null && directory.TenantId == tenant.Id ? directory : null;
    }

    /// <summary>The page's model of <paramref name="tenant"/> after a refused change: the row is read again, so the page shows what is stored.</summary>
    public async Task<TenantOverviewModel> ReadCurrentAsync(Tenant tenant, CancellationToken cancellationToken) =>
        await ReadAsync(await tenants.FindAsync(tenant.Id, cancellationToken) ?? tenant, cancellationToken);

    /// <summary>The page's model of <paramref name="tenant"/>.</summary>
    public async Task<TenantOverviewModel> ReadAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        var claims = await tenants.ListClaimsAsync(tenant, cancellationToken);
        var links = await setupLinks.ListAsync(tenant.Id, cancellationToken);
        var now = clock.GetUtcNow();
        return new TenantOverviewModel(tenant, claims, links, await ConnectionsAsync(tenant, now, cancellationToken),
            await DirectoriesAsync(tenant, cancellationToken), now);
    }

    private async Task<IReadOnlyList<ConnectionSummary>> ConnectionsAsync(Tenant tenant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var list = await connections.ListAsync(tenant.Id, cancellationToken);
        if (list.Count == 0) return [];
        var (attempts, _) = await audit.ReadAsync(tenant.Id.Value, AuditTypes.SignInAttempt, null, RecentAuditRows, cancellationToken);
        return list.Select(c =>
        {
            var own = attempts.Where(a => a["connectionId"]?.GetValue<string>() == c.Id.Value).ToList();
            return new ConnectionSummary(c, CertificateExpiryCheck.Statuses(c, now),
                own.FirstOrDefault(a => a["result"]?.GetValue<string>() == "success"),
                own.FirstOrDefault(a => a["result"]?.GetValue<string>() == "failure"));
        }).ToList();
    }

    private async Task<IReadOnlyList<DirectorySummary>> DirectoriesAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        var ids = await directories.ListDirectoryIdsAsync(tenant.Id, cancellationToken);
        if (ids.Count == 0) return [];
        var (requests, _) = await audit.ReadAsync(tenant.Id.Value, AuditTypes.ScimRequest, null, RecentAuditRows, cancellationToken);
        var summaries = new List<DirectorySummary>();
        foreach (var id in ids)
        {
            if (await directories.FindDirectoryAsync(id, cancellationToken) is not { } directory) continue;
            var tokens = await directories.ListTokensAsync(id, cancellationToken);
            var activeUsers = await users.CountActiveUsersAsync(id, cancellationToken);
            var (groupPage, moreGroups) = await groups.ListGroupsPageAsync(id, null, GroupCountLimit, cancellationToken);
            var sync = directory.Provider == DirectoryProviders.GoogleDirectory ? await syncStates.FindSyncStateAsync(id, cancellationToken) : null;
            summaries.Add(new DirectorySummary(directory, tokens, activeUsers, groupPage.Count + (moreGroups is null ? "" : "+"),
                requests.FirstOrDefault(r => r["directoryId"]?.GetValue<string>() == id.Value), sync));
        }
        return summaries;
    }
}
