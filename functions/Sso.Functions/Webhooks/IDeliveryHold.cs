using Sso.Functions.Hosting;

namespace Sso.Functions.Webhooks;

/// <summary>
/// Parks a delivery while its directory is held (a mass deprovisioning awaiting an admin), so
/// that a release re-sends it and a cancel drops it. Deprovisioning implements it.
/// </summary>
public interface IDeliveryHold
{
    /// <summary>True when the item was parked and must not be delivered now.</summary>
    Task<bool> TryParkAsync(string directoryId, string queueName, WorkItem item, string? userId, string? userName,
        CancellationToken cancellationToken);
}
