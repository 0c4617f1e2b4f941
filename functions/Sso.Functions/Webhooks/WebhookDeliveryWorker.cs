using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Protocols.Webhooks;

namespace Sso.Functions.Webhooks;

/// <summary>
/// Delivers one event to one webhook per work item. A failed attempt is recorded and the next
/// one is scheduled on the queue with backoff (the work item itself succeeds, so the queue's
/// own redelivery is kept for crashes). Nothing is dropped: after the last attempt the delivery
/// is dead-lettered (replayable), and while its webhook is disabled it is parked, to be sent
/// when the webhook is enabled again. A webhook is disabled only by failure sustained over time
/// (<see cref="WebhookOptions.ShouldDisable"/>), never by a burst during a short outage.
/// </summary>
public static partial class WebhookDeliveryWorker
{
    public const string QueueName = "webhooks";
    public const string Kind = "webhook.deliver";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string DisabledEvent = "webhook.disabled";

    public static QueueFunction Function { get; } = new("WebhookDelivery", QueueName, HandleAsync);

    public static WorkEnvelope Envelope(WebhookDeliveryMessage message) => new(
        $"{message.EventId}.{message.WebhookId}.{message.Attempt}", Kind,
        JsonSerializer.Serialize(message, SsoJsonContext.Default.WebhookDeliveryMessage));

    private static async Task HandleAsync(WorkItem item, IServiceProvider services, CancellationToken cancellationToken)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.Webhooks");
        WebhookDeliveryMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(item.Body, SsoJsonContext.Default.WebhookDeliveryMessage);
        }
        catch (JsonException)
        {
            message = null;
        }
        if (message is null || !WebhookId.TryParse(message.WebhookId, out var webhookId))
        {
            LogUnreadable(logger, item.MessageId);
            return;
        }

        if (message.EventType == DirectorySync.DirectoryEvents.UserDeprovisioned
            && await ParkIfHeldAsync(item, message, services, cancellationToken))
            return;

        var store = services.GetRequiredService<WebhookStore>();
        var clock = services.GetRequiredService<TimeProvider>();
        // A deleted webhook has nowhere to deliver to; that is the only delivery let go.
        if (await store.FindAsync(webhookId, cancellationToken) is not { } webhook) return;
        if (await store.IsDeliveredAsync(webhookId, message.EventId, cancellationToken)) return;
        if (!webhook.Enabled)
        {
            await ParkAsync(services, store, webhookId, message, webhook.DisabledReason ?? "the webhook is disabled", clock.GetUtcNow(),
                cancellationToken);
            return;
        }
        var secret = await services.GetRequiredService<ISecretStore>().GetAsync(webhookId.SecretName, cancellationToken);
        if (secret is null)
        {
            LogNoSecret(logger, webhookId.Value);
            return;
        }

        var options = services.GetRequiredService<WebhookOptions>();
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookEndpoints.HttpClientName);
        var now = clock.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var (status, error) = await PostAsync(http, webhook, message, secret, now, options.Timeout, cancellationToken);
        var duration = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        if (status is >= 200 and < 300)
        {
            await store.RecordAttemptAsync(webhookId, new WebhookDeliveryAttempt(message.EventId, message.EventType, message.Attempt,
                Delivered, status, null, duration, now, null), cancellationToken);
            if (webhook.ConsecutiveFailures > 0 || webhook.FailingSince is not null)
                await UpdateFailuresAsync(store, webhookId, reset: true, options, now, cancellationToken);
            LogDelivered(logger, webhookId.Value, message.Attempt);
            return;
        }

        var retry = message.Attempt < options.MaxAttempts;
        var delay = options.DelayBefore(message.Attempt + 1, Random.Shared.NextDouble());
        await store.RecordAttemptAsync(webhookId, new WebhookDeliveryAttempt(message.EventId, message.EventType, message.Attempt,
            Failed, status, error, duration, now, retry ? now + delay : null), cancellationToken);
        var disabled = await UpdateFailuresAsync(store, webhookId, reset: false, options, now, cancellationToken);
        LogFailed(logger, webhookId.Value, message.Attempt, status ?? 0, error ?? "");
        var lastError = error ?? (status is { } code ? $"HTTP {code}" : "failed");
        if (disabled is { } disabling)
        {
            LogDisabled(logger, webhookId.Value);
            // The notice belongs to the webhook's tenant; a global webhook's to the tenant whose event failed last.
            if ((webhook.TenantId ?? message.TenantId) is { } tenantId)
                await services.GetRequiredService<Outbox.EventFeedStore>().AppendAsync(new Outbox.EventRecord(
                    Outbox.EventRecord.NewId(now), DisabledEvent, tenantId, null, null, now,
                    new System.Text.Json.Nodes.JsonObject
                    {
                        ["webhookId"] = webhookId.Value,
                        ["url"] = webhook.Url,
                        ["consecutiveFailures"] = disabling.ConsecutiveFailures,
                        ["failingSince"] = disabling.FailingSince,
                        ["lastError"] = lastError,
                    }), cancellationToken);
            await ParkAsync(services, store, webhookId, message, disabling.DisabledReason ?? "the webhook was disabled", now, cancellationToken);
            return;
        }
        if (retry)
        {
            var queue = services.GetRequiredService<IWorkQueue>();
            await queue.SendLaterAsync(QueueName, Envelope(message with { Attempt = message.Attempt + 1 }), delay, cancellationToken);
            return;
        }
        await store.HoldAsync(webhookId, message, HeldDelivery.DeadLettered,
            $"{message.Attempt} attempts failed; the last: {lastError}", now, cancellationToken);
        LogDeadLettered(logger, webhookId.Value, message.Attempt);
    }

    /// <summary>
    /// Keeps the delivery until the webhook is enabled. Enabling re-queues what is parked, so a
    /// delivery parked just after that re-queue is sent here instead (read again after parking).
    /// </summary>
    private static async Task ParkAsync(IServiceProvider services, WebhookStore store, WebhookId id, WebhookDeliveryMessage message,
        string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await store.HoldAsync(id, message with { Attempt = 1 }, HeldDelivery.Parked, reason, now, cancellationToken);
        if (await store.FindAsync(id, cancellationToken) is { Enabled: true })
            await services.GetRequiredService<WebhookRedelivery>().RequeueAsync(id,
                held => held.State == HeldDelivery.Parked && held.EventId == message.EventId, cancellationToken);
    }

    /// <summary>While a mass deprovisioning holds the event's directory, the delivery waits in the hold.</summary>
    private static async Task<bool> ParkIfHeldAsync(WorkItem item, WebhookDeliveryMessage message, IServiceProvider services,
        CancellationToken cancellationToken)
    {
        System.Text.Json.Nodes.JsonNode? payload;
        try
        {
            payload = System.Text.Json.Nodes.JsonNode.Parse(message.Payload);
        }
        catch (JsonException)
        {
            return false;
        }
        static string? Text(System.Text.Json.Nodes.JsonNode? node) =>
            node is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        if (!DirectorySync.DirectoryId.TryParse(Text(payload?["directoryId"]), out var directoryId)) return false;
        return await services.GetRequiredService<IDeliveryHold>().TryParkAsync(directoryId.Value, QueueName, item,
            Text(payload?["data"]?["id"]), Text(payload?["data"]?["userName"]), cancellationToken);
    }

    public static async Task<(int? Status, string? Error)> PostAsync(HttpClient http, Webhook webhook, WebhookDeliveryMessage message,
        string secret, DateTimeOffset now, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(message.Payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, WebhookSignature.Sign(secret, now, body));
        request.Headers.TryAddWithoutValidation("Sso-Webhook-Id", webhook.Id.Value);
        request.Headers.TryAddWithoutValidation("Sso-Event-Id", message.EventId);
        request.Headers.TryAddWithoutValidation("Sso-Event-Type", message.EventType);
        request.Headers.TryAddWithoutValidation("Sso-Delivery-Attempt", message.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.UserAgent.ParseAdd("Serverless.Sso-Webhooks/1");
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token);
            return ((int)response.StatusCode, response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no response within {timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            return (null, e.HttpRequestError switch
            {
                HttpRequestError.ConnectionError => "connection failed",
                HttpRequestError.NameResolutionError => "host name did not resolve",
                HttpRequestError.SecureConnectionError => "TLS handshake failed",
                _ => "request failed",
            });
        }
    }

    /// <returns>The webhook as this failure disabled it, or null when it stays as it was.</returns>
    private static async Task<Webhook?> UpdateFailuresAsync(WebhookStore store, WebhookId id, bool reset, WebhookOptions options,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Several deliveries to one webhook run at once: the ETag loop may go round a few times.
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (await store.FindAsync(id, cancellationToken) is not { } before) return null;
            var failures = reset ? 0 : before.ConsecutiveFailures + 1;
            DateTimeOffset? failingSince = reset ? null : before.FailingSince ?? now;
            var disable = !reset && before.Enabled && options.ShouldDisable(failures, failingSince!.Value, now);
            var after = before with
            {
                ConsecutiveFailures = failures,
                FailingSince = failingSince,
                Enabled = before.Enabled && !disable,
                DisabledReason = disable
                    ? $"disabled after {failures} consecutive failed deliveries over {(now - failingSince!.Value).TotalMinutes:0} minutes"
                    : before.DisabledReason,
            };
            switch (await store.ReplaceAsync(before, after, cancellationToken))
            {
                case SaveOutcome.Saved: return disable ? after : null;
                case SaveOutcome.NotFound: return null;
            }
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook work item {MessageId} is unreadable; dropped")]
    private static partial void LogUnreadable(ILogger logger, string messageId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook {WebhookId} has no signing secret; delivery skipped")]
    private static partial void LogNoSecret(ILogger logger, string webhookId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {WebhookId} delivered on attempt {Attempt}")]
    private static partial void LogDelivered(ILogger logger, string webhookId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} attempt {Attempt} failed: {Status} {Error}")]
    private static partial void LogFailed(ILogger logger, string webhookId, int attempt, int status, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId}: delivery dead-lettered after {Attempt} attempts")]
    private static partial void LogDeadLettered(ILogger logger, string webhookId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} disabled after failing over time")]
    private static partial void LogDisabled(ILogger logger, string webhookId);
}
