namespace Sso.Functions.Storage.Queues;

/// <summary>
/// Work that failed every delivery: Service Bus dead-letter sub-queues in Azure, the
/// "{queue}-poison" Storage queues locally. Listing does not consume; a replay sends the work
/// again under a new message id (the original id would be dropped by duplicate detection)
/// and removes the dead letter.
/// </summary>
public interface IDeadLetterQueue
{
    Task<IReadOnlyList<DeadLetter>> ListAsync(string queueName, int max, CancellationToken cancellationToken);

    /// <returns>False when no dead letter with that id is (still) there.</returns>
    Task<bool> ReplayAsync(string queueName, string deadLetterId, CancellationToken cancellationToken);
}

public sealed record DeadLetter(
    string Id, string Queue, string? MessageId, string? Kind, string Reason, int? DeliveryCount, DateTimeOffset? EnqueuedAt);

public static class DeadLetterReplay
{
    public static string NewMessageId(string? original) =>
        (original ?? "unknown") + ".replay-" + Guid.NewGuid().ToString("N")[..8];
}
