using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Deprovisioning;

/// <summary>
/// The dead-letter operations, for the management API and the operator console alike: work that
/// failed every delivery, listed per queue, and sent back to its queue on request.
/// </summary>
public sealed class DeadLetters(IDeadLetterQueue deadLetters)
{
    public const int DefaultLimit = 32;
    public const int MaxLimit = 100;

    public static IReadOnlyList<string> QueueNames => FunctionTable.Queues.Select(q => q.QueueName).Distinct().ToList();

    /// <summary>The dead letters of <paramref name="queue"/>, or of every queue when it is null; at most <paramref name="limit"/> per queue.</summary>
    public async Task<Result<IReadOnlyList<DeadLetter>, Problem>> ListAsync(string? queue, int limit, CancellationToken cancellationToken)
    {
        if (queue is not null && !QueueNames.Contains(queue))
            return Problem.Validation($"'queue' must be one of: {string.Join(", ", QueueNames)}.");
        var max = Math.Clamp(limit, 1, MaxLimit);
        // Side by side, so the queues' waits do not add up: the slowest one bounds the answer.
        var lists = await Task.WhenAll((queue is not null ? [queue] : QueueNames)
            .Select(name => deadLetters.ListAsync(name, max, cancellationToken)));
        return lists.SelectMany(list => list).ToList();
    }

    public async Task<Result<DeadLetterReplayed, Problem>> ReplayAsync(string queue, string deadLetterId, CancellationToken cancellationToken)
    {
        if (!QueueNames.Contains(queue)) return Problem.NotFound("queue", queue);
        return await deadLetters.ReplayAsync(queue, deadLetterId, cancellationToken)
            ? new DeadLetterReplayed(queue, deadLetterId)
            : Problem.NotFound("dead letter", deadLetterId);
    }
}
