namespace Sso.Functions.Storage.Queues;

/// <summary>
/// Sends work to a queue: Service Bus in Azure (received by the Functions host trigger), Storage
/// queues locally (received by the local queue dispatcher in Hosting). Message ids are
/// deterministic, so Service Bus duplicate detection drops a repeat send.
/// </summary>
public interface IWorkQueue
{
    Task SendAsync(string queueName, IReadOnlyList<WorkEnvelope> messages, CancellationToken cancellationToken);

    /// <summary>Sends one message that becomes visible to the receiver only after <paramref name="delay"/> (retry backoff).</summary>
    Task SendLaterAsync(string queueName, WorkEnvelope message, TimeSpan delay, CancellationToken cancellationToken);
}
