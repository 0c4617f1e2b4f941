using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Tenants;

namespace Sso.Functions.Deprovisioning;

/// <summary>A deleted tenant's purge, as a task on the deprovisioning queue.</summary>
public sealed class TenantPurgeQueue(IWorkQueue queue) : ITenantPurge
{
    public Task QueueAsync(TenantId tenantId, CancellationToken cancellationToken) =>
        queue.SendAsync(DeprovisionWorker.QueueName, [DeprovisionWorker.TenantPurge(tenantId)], cancellationToken);
}
