using System.Text.Json.Nodes;
using Sso.Functions.Outbox;

namespace Sso.Functions.DirectorySync;

/// <summary>The events a directory change causes (DESIGN.md §3.1, §3.3).</summary>
public static class DirectoryEvents
{
    public const string UserCreated = "dsync.user.created";
    public const string UserUpdated = "dsync.user.updated";
    public const string UserDeprovisioned = "dsync.user.deprovisioned";
    public const string UserReactivated = "dsync.user.reactivated";
    public const string GroupCreated = "dsync.group.created";
    public const string GroupUpdated = "dsync.group.updated";
    public const string GroupDeleted = "dsync.group.deleted";
    public const string GroupUserAdded = "dsync.group.user_added";
    public const string GroupUserRemoved = "dsync.group.user_removed";

    public static EventRecord Create(DirectoryRecord directory, string type, DateTimeOffset now, JsonObject data) =>
        new(EventRecord.NewId(now), type, directory.TenantId.Value, directory.Id.Value, null, now, data);

    public static JsonObject UserData(DirectoryUser user) => new()
    {
        ["id"] = user.Id,
        ["externalId"] = user.ExternalId,
        ["userName"] = user.UserName,
        ["email"] = DirectoryViews.PrimaryEmail(user.Resource),
        ["active"] = user.Active,
        ["state"] = DirectoryViews.StateName(user.State),
    };

    public static JsonObject GroupData(DirectoryGroup group) => new()
    {
        ["id"] = group.Id,
        ["externalId"] = group.ExternalId,
        ["displayName"] = group.DisplayName,
    };

    public static EventRecord Membership(DirectoryRecord directory, string type, DateTimeOffset now, DirectoryGroup group,
        string memberId, string? userName) =>
        Create(directory, type, now, new JsonObject
        {
            ["group"] = new JsonObject { ["id"] = group.Id, ["displayName"] = group.DisplayName },
            ["user"] = new JsonObject { ["id"] = memberId, ["userName"] = userName },
        });

    /// <summary>The events of a user change: updated, and deprovisioned or reactivated when the state moved.</summary>
    public static List<EventRecord> UserChanged(DirectoryRecord directory, DirectoryUser before, DirectoryUser after, DateTimeOffset now)
    {
        var events = new List<EventRecord> { Create(directory, UserUpdated, now, UserData(after)) };
        if (before.State == UserState.Active && after.State == UserState.Suspended)
            events.Add(Deprovisioned(directory, after, "deactivated", now));
        else if (before.State == UserState.Suspended && after.State == UserState.Active)
            events.Add(Create(directory, UserReactivated, now, UserData(after)));
        return events;
    }

    public static EventRecord Deprovisioned(DirectoryRecord directory, DirectoryUser user, string reason, DateTimeOffset now)
    {
        var data = UserData(user);
        data["reason"] = reason;
        return Create(directory, UserDeprovisioned, now, data);
    }
}
