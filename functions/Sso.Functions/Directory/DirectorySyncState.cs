using Azure;
using Azure.Data.Tables;

namespace Sso.Functions.DirectorySync;

/// <summary>
/// A directory this service pulls from (Google Workspace's Directory API) instead of one an IdP
/// pushes to over SCIM: its authorization state and the progress and result of its syncs, one row
/// (<c>sync</c>) in the directory's partition. The refresh token is never here: it is in the secret store.
/// </summary>
public sealed record DirectorySyncState(
    DirectoryId DirectoryId, string State, DateTimeOffset? LastSyncAt = null, string? LastSyncResult = null, string? LastSyncError = null,
    int Users = 0, int Groups = 0, int Created = 0, int Updated = 0, int Deprovisioned = 0,
    string? RunId = null, DateTimeOffset? RunActiveAt = null, int RunUsers = 0, int RunGroups = 0, ETag ETag = default)
{
    public const string RowKey = "sync";
    public const string NeedsAuthorization = "needs_authorization";
    public const string Connected = "connected";

    /// <summary>
    /// The secret that holds a pulled directory's refresh token. Named here, below the provider
    /// feature, so a directory's purge deletes it with the directory.
    /// </summary>
    public static string RefreshTokenSecretName(DirectoryId id) => "google-refresh-token-" + id.Value.Replace('_', '-');

    public TableEntity ToEntity() => new(DirectoryId.Value, RowKey)
    {
        ["State"] = State,
        ["LastSyncAt"] = LastSyncAt,
        ["LastSyncResult"] = LastSyncResult,
        ["LastSyncError"] = LastSyncError,
        ["Users"] = Users,
        ["Groups"] = Groups,
        ["Created"] = Created,
        ["Updated"] = Updated,
        ["Deprovisioned"] = Deprovisioned,
        ["RunId"] = RunId,
        ["RunActiveAt"] = RunActiveAt,
        ["RunUsers"] = RunUsers,
        ["RunGroups"] = RunGroups,
    };

    public static DirectorySyncState FromEntity(TableEntity e) => new(
        new DirectoryId(e.PartitionKey), e.GetString("State") ?? NeedsAuthorization, e.GetDateTimeOffset("LastSyncAt"), e.GetString("LastSyncResult"),
        e.GetString("LastSyncError"), e.GetInt32("Users") ?? 0, e.GetInt32("Groups") ?? 0, e.GetInt32("Created") ?? 0, e.GetInt32("Updated") ?? 0,
        e.GetInt32("Deprovisioned") ?? 0, e.GetString("RunId"), e.GetDateTimeOffset("RunActiveAt"), e.GetInt32("RunUsers") ?? 0,
        e.GetInt32("RunGroups") ?? 0, e.ETag);

    /// <summary>The part of the directory view that a pulled directory adds.</summary>
    public System.Text.Json.Nodes.JsonObject View() => new()
    {
        ["state"] = State,
        ["lastSyncAt"] = LastSyncAt?.ToString("O"),
        ["lastSyncResult"] = LastSyncResult,
        ["lastSyncError"] = LastSyncError,
        ["syncing"] = RunId is not null,
        ["counts"] = new System.Text.Json.Nodes.JsonObject
        {
            ["users"] = Users, ["groups"] = Groups, ["created"] = Created, ["updated"] = Updated, ["deprovisioned"] = Deprovisioned,
        },
    };
}

/// <summary>
/// Starts the authorization of a pulled directory when it is created (the Google feature implements
/// it), so the directory API names no provider feature: returns the URL the customer's admin opens.
/// </summary>
public interface IDirectoryAuthorization
{
    string Provider { get; }

    /// <summary>Why no such directory can be created here (e.g. the OAuth client is not configured); null when it can.</summary>
    string? Unavailable { get; }

    Task<string> StartAsync(DirectoryRecord directory, CancellationToken cancellationToken);
}
