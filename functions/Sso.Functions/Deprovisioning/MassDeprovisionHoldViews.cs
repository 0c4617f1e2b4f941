using System.Globalization;
using System.Text.Json.Nodes;

namespace Sso.Functions.Deprovisioning;

/// <summary>The JSON a hold is shown as (GET .../holds, and the answer to a release or cancel).</summary>
public static class MassDeprovisionHoldViews
{
    public const int MaxUsersInView = 1000;

    /// <summary>
    /// The users of <paramref name="items"/> shown in a view (at most <see cref="MaxUsersInView"/>),
    /// each with the userName a webhook delivery carried, or null (tasks carry none).
    /// </summary>
    public static Dictionary<string, string?> Users(IEnumerable<ParkedItem> items)
    {
        var users = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var item in items)
            if (item.UserId is { } userId && (users.Count < MaxUsersInView || users.ContainsKey(userId)))
                users[userId] = item.UserName ?? users.GetValueOrDefault(userId);
        return users;
    }

    /// <param name="status">The hold's status, with a decision under way (releasing, cancelling) shown as such.</param>
    public static JsonObject View(HoldRow hold, HoldStatus? status, IEnumerable<ParkedItem> items, IReadOnlyDictionary<string, string?> users,
        TimeSpan window)
    {
        var (tasks, deliveries) = (new Dictionary<ParkedStatus, int>(), new Dictionary<ParkedStatus, int>());
        foreach (var item in items)
        {
            var counts = item.Queue == DeprovisionWorker.QueueName ? tasks : deliveries;
            counts[item.Status] = counts.GetValueOrDefault(item.Status) + 1;
        }
        static JsonObject Counts(Dictionary<ParkedStatus, int> counts) => new()
        {
            [ParkedStatus.Parked.Name()] = counts.GetValueOrDefault(ParkedStatus.Parked),
            [ParkedStatus.Released.Name()] = counts.GetValueOrDefault(ParkedStatus.Released),
            [ParkedStatus.Cancelled.Name()] = counts.GetValueOrDefault(ParkedStatus.Cancelled),
        };
        static string? Time(DateTimeOffset? at) => at?.ToString("O", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = hold.HoldId,
            ["directoryId"] = hold.DirectoryId,
            ["tenantId"] = hold.TenantId,
            ["status"] = status?.Name(),
            ["triggeredAt"] = Time(hold.TriggeredAt),
            ["windowStart"] = Time(hold.WindowStart),
            ["windowMinutes"] = (int)window.TotalMinutes,
            ["deprovisionedUsers"] = hold.DeprovisionedUsers,
            ["directoryUsers"] = hold.DirectoryUsers,
            ["threshold"] = hold.Threshold,
            ["minUsers"] = hold.MinUsers,
            ["tasks"] = Counts(tasks),
            ["webhookDeliveries"] = Counts(deliveries),
            ["users"] = new JsonArray(users.OrderBy(u => u.Key, StringComparer.Ordinal)
                .Select(u => (JsonNode)new JsonObject { ["id"] = u.Key, ["userName"] = u.Value }).ToArray()),
            ["releasedAt"] = Time(hold.ReleasedAt),
            ["cancelledAt"] = Time(hold.CancelledAt),
        };
    }
}
