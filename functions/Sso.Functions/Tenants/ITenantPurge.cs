using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

/// <summary>
/// Starts removing what a deleted tenant owned (directories, connections). Deprovisioning
/// implements it: Tenants sits below the features it would purge and may not name them.
/// </summary>
public interface ITenantPurge
{
    /// <summary>Queues the purge; it does its work only once the tenant row is gone.</summary>
    Task QueueAsync(TenantId tenantId, CancellationToken cancellationToken);
}
