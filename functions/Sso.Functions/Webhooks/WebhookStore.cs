using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Webhooks;

/// <summary>
/// Webhook endpoints (table "webhooks", one small partition) and their delivery log (table
/// "webhookdeliveries", one partition per webhook: an <c>attempt|event|n</c> row per attempt and
/// a <c>done|event</c> row once delivered, written in one transaction so a redelivered work
/// item never POSTs an event twice after it succeeded; a <c>held|event</c> row for a delivery
/// kept instead of sent: parked while the webhook is disabled, or dead-lettered).
/// </summary>
public sealed class WebhookStore(TableStorage storage)
{
    private Task<TableClient> WebhooksAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableNames.Webhooks, cancellationToken);

    private Task<TableClient> DeliveriesAsync(CancellationToken cancellationToken) =>
        storage.GetTableAsync(TableNames.WebhookDeliveries, cancellationToken);

    public async Task CreateAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        var table = await WebhooksAsync(cancellationToken);
        await table.AddEntityAsync(webhook.ToEntity(), cancellationToken);
    }

    public async Task<Webhook?> FindAsync(WebhookId id, CancellationToken cancellationToken)
    {
        var table = await WebhooksAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Webhook.Partition, id.Value, cancellationToken: cancellationToken);
        return row.HasValue ? Webhook.FromEntity(row.Value!) : null;
    }

    public async Task<IReadOnlyList<Webhook>> ListAsync(CancellationToken cancellationToken)
    {
        var table = await WebhooksAsync(cancellationToken);
        var webhooks = new List<Webhook>();
        await foreach (var row in table.QueryAsync<TableEntity>($"PartitionKey eq '{Webhook.Partition}'",
                           cancellationToken: cancellationToken))
            webhooks.Add(Webhook.FromEntity(row));
        return webhooks;
    }

    public async Task<SaveOutcome> ReplaceAsync(Webhook before, Webhook after, CancellationToken cancellationToken)
    {
        var table = await WebhooksAsync(cancellationToken);
        return await table.ReplaceIfMatchAsync(after.ToEntity(), before.ETag, cancellationToken);
    }

    public async Task<SaveOutcome> DeleteAsync(WebhookId id, CancellationToken cancellationToken)
    {
        var table = await WebhooksAsync(cancellationToken);
        return await table.DeleteIfMatchAsync(Webhook.Partition, id.Value, ETag.All, cancellationToken);
    }

    public async Task<bool> IsDeliveredAsync(WebhookId id, string eventId, CancellationToken cancellationToken)
    {
        var table = await DeliveriesAsync(cancellationToken);
        var done = await table.GetEntityIfExistsAsync<TableEntity>(id.Value, TableKey.Row("done", eventId),
            select: ["RowKey"], cancellationToken: cancellationToken);
        return done.HasValue;
    }

    /// <summary>Records an attempt; a successful one also writes the done marker in the same transaction.</summary>
    /// <returns>False when the event had already been delivered (the done marker existed).</returns>
    public async Task<bool> RecordAttemptAsync(WebhookId id, WebhookDeliveryAttempt attempt, CancellationToken cancellationToken)
    {
        var table = await DeliveriesAsync(cancellationToken);
        var row = new TableEntity(id.Value, TableKey.Row("attempt", attempt.EventId) + "|" + attempt.Attempt.ToString("D2"))
        {
            ["EventType"] = attempt.EventType,
            ["Attempt"] = attempt.Attempt,
            ["Outcome"] = attempt.Outcome,
            ["HttpStatus"] = attempt.HttpStatus,
            ["Error"] = attempt.Error,
            ["DurationMs"] = attempt.DurationMs,
            ["AttemptedAt"] = attempt.AttemptedAt,
            ["NextAttemptAt"] = attempt.NextAttemptAt,
        };
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpsertReplace, row)];
        if (attempt.Outcome == WebhookDeliveryWorker.Delivered)
            actions.Add(new(TableTransactionActionType.Add, new TableEntity(id.Value, TableKey.Row("done", attempt.EventId))
            {
                ["DeliveredAt"] = attempt.AttemptedAt,
            }));
        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<WebhookDeliveryAttempt>> ListAttemptsAsync(WebhookId id, int limit, CancellationToken cancellationToken)
    {
        var table = await DeliveriesAsync(cancellationToken);
        var attempts = new List<WebhookDeliveryAttempt>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, "attempt"), cancellationToken: cancellationToken))
        {
            var eventId = TableKey.Unescape(row.RowKey.Split('|')[1]);
            attempts.Add(new WebhookDeliveryAttempt(eventId, row.GetString("EventType"), row.GetInt32("Attempt") ?? 0,
                row.GetString("Outcome"), row.GetInt32("HttpStatus"), row.GetString("Error"), row.GetDouble("DurationMs") ?? 0,
                row.GetDateTimeOffset("AttemptedAt") ?? default, row.GetDateTimeOffset("NextAttemptAt")));
        }
        return attempts.OrderByDescending(a => a.AttemptedAt).ThenByDescending(a => a.Attempt).Take(limit).ToList();
    }

    /// <summary>Keeps a delivery (the whole work item) in the webhook's partition instead of sending it.</summary>
    public async Task HoldAsync(WebhookId id, WebhookDeliveryMessage message, string state, string reason, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        var table = await DeliveriesAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(id.Value, TableKey.Row("held", message.EventId))
        {
            ["State"] = state,
            ["Reason"] = reason,
            ["HeldAt"] = at,
            ["EventType"] = message.EventType,
            ["TenantId"] = message.TenantId,
            ["Payload"] = message.Payload,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<IReadOnlyList<HeldRow>> ListHeldAsync(WebhookId id, CancellationToken cancellationToken)
    {
        var table = await DeliveriesAsync(cancellationToken);
        var held = new List<HeldRow>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableKey.KindFilter(id.Value, "held"), cancellationToken: cancellationToken))
        {
            var eventId = TableKey.Unescape(row.RowKey.Split('|')[1]);
            var eventType = row.GetString("EventType") ?? "";
            held.Add(new HeldRow(
                new HeldDelivery(eventId, eventType, row.GetString("State") ?? HeldDelivery.Parked, row.GetString("Reason") ?? "",
                    row.GetDateTimeOffset("HeldAt") ?? default),
                new WebhookDeliveryMessage(id.Value, eventId, eventType, row.GetString("TenantId"), row.GetString("Payload") ?? "{}", 1),
                row.ETag));
        }
        return held.OrderBy(h => h.Delivery.HeldAt).ToList();
    }

    /// <summary>Removes a held delivery once it was queued again, unless it was held anew meanwhile (412 → Stale).</summary>
    public async Task<SaveOutcome> ReleaseAsync(WebhookId id, HeldRow held, CancellationToken cancellationToken)
    {
        var table = await DeliveriesAsync(cancellationToken);
        return await table.DeleteIfMatchAsync(id.Value, TableKey.Row("held", held.Delivery.EventId), held.ETag, cancellationToken);
    }
}

/// <summary>A held delivery as stored: its view, the work item to send again, and the row's ETag.</summary>
public sealed record HeldRow(HeldDelivery Delivery, WebhookDeliveryMessage Message, ETag ETag);
