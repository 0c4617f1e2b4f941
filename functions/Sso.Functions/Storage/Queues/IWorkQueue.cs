namespace Sso.Functions.Storage.Queues;

/// <summary>
/// Sends work to a queue: Service Bus in Azure (received by the Functions host trigger), Storage
/// queues locally (received by the local queue dispatcher in Hosting). Message ids are
/// deterministic, so Service Bus duplicate detection drops a repeat send.
/// </summary>
public interface IWorkQueue
{
    Task SendAsync(string queueName, IReadOnlyList<WorkEnvelope> messages, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <see cref="SendAsync"/> sends many messages in one request (Service Bus: one batch).
    /// Storage queues send each message on its own, so a sender of many small items may pack them.
    /// </summary>
    bool SendsManyInOneRequest => true;

    /// <summary>Sends one message that becomes visible to the receiver only after <paramref name="delay"/> (retry backoff).</summary>
    Task SendLaterAsync(string queueName, WorkEnvelope message, TimeSpan delay, CancellationToken cancellationToken);
}
