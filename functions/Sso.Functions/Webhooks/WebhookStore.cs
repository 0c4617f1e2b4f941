using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Webhooks;

/// <summary>
/// Webhook endpoints (table "webhooks", one small partition) and their delivery log (table
/// "webhookdeliveries", one partition per webhook: an <c>attempt|event|n</c> row per attempt and
/// a <c>done|event</c> row once delivered, written in one transaction so a redelivered work
/// item never POSTs an event twice after it succeeded).
/// </summary>
public sealed class WebhookStore(TableStorage storage)
{
    private Task<TableClient> WebhooksAsync(CancellationToken cancellationToken) => storage.GetTableAsync("webhooks", cancellationToken);

    private Task<TableClient> DeliveriesAsync(CancellationToken cancellationToken) =>
        storage.GetTableAsync("webhookdeliveries", cancellationToken);

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
}
