using System.Text.Json;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Webhooks;

using Sso.Functions.Outbox;

namespace Sso.Functions.Deprovisioning;

/// <summary>
/// Fans one event out into independent work: one webhook delivery per subscribed webhook and,
/// for a deprovisioned user, one deprovisioning task per kind of access to end; for a deleted
/// group, its membership removals in chunks. Each task has a
/// deterministic message id and retries (and dead-letters) on its own.
/// </summary>
public static partial class EventDispatchWorker
{
    public static QueueFunction Function { get; } = new("EventDispatch", EventDispatcher.QueueName, HandleAsync);

    private static async Task HandleAsync(WorkItem item, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (EventDispatcher.ReadMessage(item.Kind, item.Body) is not { } records)
        {
            // Never readable, so never retried: it goes to the dead letters for a person to look at.
            throw new InvalidDataException($"Event message {item.MessageId} is not an event.");
        }
        // One read of the webhooks for every event of the message, not one per event.
        var fanOut = services.GetRequiredService<WebhookFanOut>();
        var webhooks = await fanOut.ListWebhooksAsync(cancellationToken);
        for (var i = 0; i < records.Count; i++)
        {
            try
            {
                await HandleEventAsync(records[i], services, fanOut, webhooks, cancellationToken);
            }
            catch (Exception e) when (records.Count > 1 && e is not OperationCanceledException)
            {
                // The rest of a packed message goes back as messages of their own, each retried and
                // dead-lettered on its own; those handled already are not handled twice.
                LogPackedEventFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(EventDispatchWorker).FullName!),
                    records[i].Id, records.Count - i, e);
                await services.GetRequiredService<IWorkQueue>().SendAsync(EventDispatcher.QueueName,
                    records.Skip(i).Select(EventDispatcher.Envelope).ToList(), cancellationToken);
                return;
            }
        }
    }

    private static async Task HandleEventAsync(EventRecord record, IServiceProvider services, WebhookFanOut fanOut,
        IReadOnlyList<Webhook> webhooks, CancellationToken cancellationToken)
    {
        // Before the tasks are queued: a mass deprovisioning that this event completes holds them too.
        await services.GetRequiredService<MassDeprovisionGuard>().ObserveAsync(record, cancellationToken);
        List<WorkEnvelope> tasks = [.. DeprovisionTasks(record),
            .. await GroupMembershipRemoval.TasksAsync(record, services.GetRequiredService<DirectoryGroupStore>(), cancellationToken)];
        if (tasks.Count > 0)
            await services.GetRequiredService<IWorkQueue>().SendAsync(DeprovisionWorker.QueueName, tasks, cancellationToken);
        await fanOut.EnqueueAsync(webhooks, record.Id, record.Type, record.TenantId, record.ToJson().ToJsonString(), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} of a packed events message failed; it and the {Count} events from it on are queued on their own")]
    private static partial void LogPackedEventFailed(ILogger logger, string eventId, int count, Exception exception);

    public static IReadOnlyList<WorkEnvelope> DeprovisionTasks(EventRecord record)
    {
        if (record.Type != DirectoryEvents.UserDeprovisioned || record.DirectoryId is null
            || record.Data["id"]?.GetValue<string>() is not { } userId)
            return [];
        var task = new DeprovisionTask(record.TenantId, record.DirectoryId, userId, record.Id, record.OccurredAt);
        var body = JsonSerializer.Serialize(task, SsoJsonContext.Default.DeprovisionTask);
        return
        [
            new WorkEnvelope($"{record.Id}.{DeprovisionWorker.RevokeAccess}", DeprovisionWorker.RevokeAccess, body),
            new WorkEnvelope($"{record.Id}.{DeprovisionWorker.RemoveMemberships}", DeprovisionWorker.RemoveMemberships, body),
        ];
    }
}

/// <summary>What a deprovisioning task works on.</summary>
public sealed record DeprovisionTask(string TenantId, string DirectoryId, string UserId, string EventId, DateTimeOffset DeprovisionedAt);

/// <summary>What a tenant-deletion task works on.</summary>
public sealed record TenantPurgeTask(string TenantId, string? DirectoryId);
