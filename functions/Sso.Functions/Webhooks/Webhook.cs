using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Webhooks;

public readonly record struct WebhookId(string Value)
{
    public const string Prefix = "whk_";

    public static WebhookId New() => new(Ids.New(Prefix));

    public static bool TryParse(string? value, out WebhookId id)
    {
        id = new WebhookId(value ?? "");
        return Ids.HasShape(value, Prefix);
    }

    /// <summary>Key Vault secret names allow no '_'.</summary>
    public string SecretName => "webhook-" + Value.Replace('_', '-');

    public override string ToString() => Value;
}

/// <summary>
/// A SaaS endpoint that receives events as signed POSTs: for one tenant, or for all tenants
/// when <see cref="TenantId"/> is null. <see cref="EventTypes"/> empty means every type;
/// an entry ending in ".*" matches a prefix (<c>dsync.*</c>).
/// </summary>
public sealed record Webhook(
    WebhookId Id,
    string? TenantId,
    string Url,
    string[] EventTypes,
    string? Description,
    bool Enabled,
    int ConsecutiveFailures,
    string? DisabledReason,
    DateTimeOffset CreatedAt,
    ETag ETag = default,
    DateTimeOffset? FailingSince = null)
{
    public const string Partition = "webhooks";

    public bool Wants(string eventType, string? tenantId) =>
        Enabled
        && (TenantId is null || TenantId == tenantId)
        && (EventTypes.Length == 0 || EventTypes.Any(pattern => pattern.EndsWith(".*", StringComparison.Ordinal)
            ? eventType.StartsWith(pattern[..^1], StringComparison.Ordinal)
            : pattern == eventType));

    public TableEntity ToEntity() => new(Partition, Id.Value)
    {
        ["TenantId"] = TenantId,
        ["Url"] = Url,
        ["EventTypes"] = JsonSerializer.Serialize(EventTypes, SsoJsonContext.Default.StringArray),
        ["Description"] = Description,
        ["Enabled"] = Enabled,
        ["ConsecutiveFailures"] = ConsecutiveFailures,
        ["DisabledReason"] = DisabledReason,
        ["CreatedAt"] = CreatedAt,
        ["FailingSince"] = FailingSince,
    };

    public static Webhook FromEntity(TableEntity entity) => new(
        new WebhookId(entity.RowKey),
        entity.GetString("TenantId"),
        entity.GetString("Url"),
        JsonSerializer.Deserialize(entity.GetString("EventTypes"), SsoJsonContext.Default.StringArray) ?? [],
        entity.GetString("Description"),
        entity.GetBoolean("Enabled") ?? false,
        entity.GetInt32("ConsecutiveFailures") ?? 0,
        entity.GetString("DisabledReason"),
        entity.GetDateTimeOffset("CreatedAt") ?? default,
        entity.ETag,
        entity.GetDateTimeOffset("FailingSince"));

    public WebhookView ToView() =>
        new(Id.Value, TenantId, Url, EventTypes, Description, Enabled, ConsecutiveFailures, DisabledReason, CreatedAt, FailingSince);
}

public sealed record WebhookView(
    string Id, string? TenantId, string Url, string[] EventTypes, string? Description, bool Enabled,
    int ConsecutiveFailures, string? DisabledReason, DateTimeOffset CreatedAt, DateTimeOffset? FailingSince);

/// <summary>The only response that carries the signing secret.</summary>
public sealed record CreatedWebhook(string Id, string? TenantId, string Url, string[] EventTypes, string? Description,
    bool Enabled, string Secret, DateTimeOffset CreatedAt);

public sealed record WebhookList(WebhookView[] Data);

public sealed class CreateWebhookRequest
{
    public string? Url { get; init; }
    public string? TenantId { get; init; }
    public string[]? EventTypes { get; init; }
    public string? Description { get; init; }
}

public sealed class UpdateWebhookRequest
{
    public string? Url { get; init; }
    public string[]? EventTypes { get; init; }
    public string? Description { get; init; }
    public bool? Enabled { get; init; }
}

/// <summary>One delivery attempt, as recorded and as listed.</summary>
public sealed record WebhookDeliveryAttempt(
    string EventId, string EventType, int Attempt, string Outcome, int? HttpStatus, string? Error, double DurationMs,
    DateTimeOffset AttemptedAt, DateTimeOffset? NextAttemptAt);

public sealed record WebhookDeliveryList(WebhookDeliveryAttempt[] Data);

/// <summary>
/// A delivery that is kept instead of sent: parked while its webhook is disabled (sent again when
/// it is enabled), or dead-lettered once its attempts were spent (sent again on request).
/// </summary>
public sealed record HeldDelivery(string EventId, string EventType, string State, string Reason, DateTimeOffset HeldAt)
{
    public const string Parked = "parked";
    public const string DeadLettered = "deadLettered";
}

public sealed record HeldDeliveryList(HeldDelivery[] Data);

public sealed record HeldDeliveriesQueued(int Queued);

/// <summary>The work item that asks for one delivery attempt of one event to one webhook.</summary>
public sealed record WebhookDeliveryMessage(
    string WebhookId, string EventId, string EventType, string? TenantId, string Payload, int Attempt);
