using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.Deprovisioning;

/// <summary>Where a directory's hold is: held, a decision under way, or decided.</summary>
public enum HoldStatus { Held, Releasing, Cancelling, Released, Cancelled }

/// <summary>Where one parked work item is.</summary>
public enum ParkedStatus { Parked, Released, Cancelled }

/// <summary>The stored and shown names of the statuses ("held", "releasing", ...).</summary>
public static class HoldStatusNames
{
    public static string Name(this HoldStatus status) => status switch
    {
        HoldStatus.Held => "held",
        HoldStatus.Releasing => "releasing",
        HoldStatus.Cancelling => "cancelling",
        HoldStatus.Released => "released",
        _ => "cancelled",
    };

    public static string Name(this ParkedStatus status) => status switch
    {
        ParkedStatus.Parked => "parked",
        ParkedStatus.Released => "released",
        _ => "cancelled",
    };

    public static HoldStatus? ParseHold(string? name) => name switch
    {
        "held" => HoldStatus.Held,
        "releasing" => HoldStatus.Releasing,
        "cancelling" => HoldStatus.Cancelling,
        "released" => HoldStatus.Released,
        "cancelled" => HoldStatus.Cancelled,
        _ => null,
    };

    // Rows written before a status was recorded are parked.
    public static ParkedStatus ParseParked(string? name) => name switch
    {
        "released" => ParkedStatus.Released,
        "cancelled" => ParkedStatus.Cancelled,
        _ => ParkedStatus.Parked,
    };
}

/// <summary>
/// The <c>guard</c> row of a directory: its current hold and the floor below which
/// deprovisioning markers no longer count. Every write that parks work or moves a hold is
/// conditional on its ETag.
/// </summary>
public sealed record GuardRow(
    string DirectoryId, string? HoldId, HoldStatus? Status, DateTimeOffset Floor, DateTimeOffset TriggeredAt, ETag ETag = default)
{
    public const string RowKey = "guard";

    public TableEntity ToEntity(DateTimeOffset changedAt) => new(DirectoryId, RowKey)
    {
        ["HoldId"] = HoldId,
        ["Status"] = Status?.Name(),
        ["Floor"] = Floor,
        ["TriggeredAt"] = TriggeredAt,
        ["ChangedAt"] = changedAt,
    };

    public static GuardRow FromEntity(TableEntity entity) => new(
        entity.PartitionKey, entity.GetString("HoldId"), HoldStatusNames.ParseHold(entity.GetString("Status")),
        entity.GetDateTimeOffset("Floor") ?? DateTimeOffset.MinValue, entity.GetDateTimeOffset("TriggeredAt") ?? DateTimeOffset.MinValue,
        entity.ETag);
}

/// <summary>A <c>hold|&lt;id&gt;</c> row: what triggered the hold and how it ended.</summary>
public sealed record HoldRow(
    string DirectoryId, string HoldId, string? TenantId, HoldStatus? Status, DateTimeOffset? TriggeredAt, DateTimeOffset? WindowStart,
    int? DeprovisionedUsers, int? DirectoryUsers, double? Threshold, int? MinUsers,
    DateTimeOffset? ReleasedAt = null, DateTimeOffset? CancelledAt = null)
{
    public const string Kind = "hold";

    public static string RowKeyOf(string holdId) => TableKey.Row(Kind, holdId);

    public TableEntity ToEntity() => new(DirectoryId, RowKeyOf(HoldId))
    {
        ["TenantId"] = TenantId,
        ["Status"] = Status?.Name(),
        ["TriggeredAt"] = TriggeredAt,
        ["WindowStart"] = WindowStart,
        ["DeprovisionedUsers"] = DeprovisionedUsers,
        ["DirectoryUsers"] = DirectoryUsers,
        ["Threshold"] = Threshold,
        ["MinUsers"] = MinUsers,
    };

    public static HoldRow FromEntity(TableEntity entity) => new(
        entity.PartitionKey, TableKey.Unescape(entity.RowKey[(Kind.Length + 1)..]), entity.GetString("TenantId"),
        HoldStatusNames.ParseHold(entity.GetString("Status")), entity.GetDateTimeOffset("TriggeredAt"), entity.GetDateTimeOffset("WindowStart"),
        entity.GetInt32("DeprovisionedUsers"), entity.GetInt32("DirectoryUsers"), entity.GetDouble("Threshold"), entity.GetInt32("MinUsers"),
        entity.GetDateTimeOffset("ReleasedAt"), entity.GetDateTimeOffset("CancelledAt"));
}

/// <summary>
/// A <c>parked|&lt;hold&gt;|&lt;message id&gt;</c> row: a work item that would have run, kept
/// with its queue and body. Message ids start with the time-ordered event id, so RowKey order is
/// the order the work was caused in.
/// </summary>
public sealed record ParkedItem(
    string DirectoryId, string HoldId, string? Queue, string MessageId, string? Kind, string? Body, string? UserId, string? UserName,
    ParkedStatus Status, DateTimeOffset? ParkedAt)
{
    public const string RowKind = "parked";

    public static string Prefix(string holdId) => $"{RowKind}|{TableKey.Escape(holdId)}|";

    public string RowKey { get; init; } = Prefix(HoldId) + TableKey.Escape(MessageId);

    public TableEntity ToEntity() => new(DirectoryId, RowKey)
    {
        ["Queue"] = Queue,
        ["MessageId"] = MessageId,
        ["Kind"] = Kind,
        ["Body"] = Body,
        ["UserId"] = UserId,
        ["UserName"] = UserName,
        ["Status"] = Status.Name(),
        ["ParkedAt"] = ParkedAt,
    };

    public static ParkedItem FromEntity(TableEntity entity, string holdId) => new(
        entity.PartitionKey, holdId, entity.GetString("Queue"), entity.GetString("MessageId") ?? "", entity.GetString("Kind"),
        entity.GetString("Body"), entity.GetString("UserId"), entity.GetString("UserName"),
        HoldStatusNames.ParseParked(entity.GetString("Status")), entity.GetDateTimeOffset("ParkedAt")) { RowKey = entity.RowKey };
}
