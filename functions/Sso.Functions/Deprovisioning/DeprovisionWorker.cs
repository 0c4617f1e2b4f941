using System.Text.Json;
using Sso.Functions.Connections;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tenants;
using Sso.Functions.Outbox;

namespace Sso.Functions.Deprovisioning;

/// <summary>
/// The deprovisioning tasks, one kind per message. Every task is idempotent: run twice, it
/// changes nothing the second time, so redeliveries and replays are safe.
/// </summary>
public sealed partial class DeprovisionWorker(MassDeprovisionGuard guard, AccessTokenStore accessTokens, TenantStore tenants,
    ConnectionStore connections, DirectoryRecordStore directories, DirectoryUserStore users, DirectoryGroupStore groups,
    IWorkQueue queue, ISecretStore secrets, TimeProvider clock, ILoggerFactory loggers)
{
    public const string QueueName = "deprovision";
    public const string RevokeAccess = "user.revoke-access";
    public const string RemoveMemberships = "user.remove-memberships";
    public const string PurgeTenant = "tenant.purge";
    public const string PurgeDirectory = "directory.purge";
    public const string RemoveGroupMemberships = "group.remove-memberships";

    public static QueueFunction Function { get; } = new("DeprovisionWorker", QueueName,
        (item, services, cancellationToken) => services.GetRequiredService<DeprovisionWorker>().HandleAsync(item, cancellationToken));

    private readonly ILogger _logger = loggers.CreateLogger("Sso.Functions.Deprovisioning");

    public Task HandleAsync(WorkItem item, CancellationToken cancellationToken) => item.Kind switch
    {
        RevokeAccess => UnlessHeldAsync(item, RevokeAccessAsync, cancellationToken),
        RemoveMemberships => UnlessHeldAsync(item, RemoveMembershipsAsync, cancellationToken),
        PurgeTenant => PurgeTenantAsync(Read(item, SsoJsonContext.Default.TenantPurgeTask), cancellationToken),
        PurgeDirectory => PurgeDirectoryAsync(Read(item, SsoJsonContext.Default.TenantPurgeTask), cancellationToken),
        RemoveGroupMemberships => GroupMembershipRemoval.RunAsync(Read(item, SsoJsonContext.Default.GroupMembershipTask),
            directories, users, groups, tenants, clock, cancellationToken),
        _ => throw new InvalidDataException($"Unknown deprovisioning task '{item.Kind}'."),
    };

    private static T Read<T>(WorkItem item, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        try
        {
            return JsonSerializer.Deserialize(item.Body, typeInfo) ?? throw new InvalidDataException($"Task {item.MessageId} is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Task {item.MessageId} is unreadable.", e);
        }
    }

    /// <summary>A user's task runs unless a mass deprovisioning holds the directory; then it is parked in the hold.</summary>
    private async Task UnlessHeldAsync(WorkItem item, Func<DeprovisionTask, CancellationToken, Task> run, CancellationToken cancellationToken)
    {
        var task = Read(item, SsoJsonContext.Default.DeprovisionTask);
        if (await guard.TryParkAsync(task.DirectoryId, QueueName, item, task.UserId, null, cancellationToken)) return;
        await run(task, cancellationToken);
    }

    /// <summary>Every access token and pending code issued to the user up to now stops working.</summary>
    private async Task RevokeAccessAsync(DeprovisionTask task, CancellationToken cancellationToken)
    {
        await accessTokens.RevokeDirectoryUserAsync(new TenantId(task.TenantId), task.UserId, clock.GetUtcNow(), cancellationToken);
        LogRevoked(_logger, task.TenantId, task.DirectoryId);
    }

    /// <summary>Removes the user from every group of the directory, each removal with its event.</summary>
    private async Task RemoveMembershipsAsync(DeprovisionTask task, CancellationToken cancellationToken)
    {
        var directoryId = new DirectoryId(task.DirectoryId);
        if (await directories.FindDirectoryAsync(directoryId, cancellationToken) is not { } directory) return;
        // Reactivated since the event: the IdP gave access back, so the groups stay.
        if (await users.FindUserAsync(directoryId, task.UserId, cancellationToken) is { State: UserState.Active }) return;

        for (var attempt = 0; attempt < 3; attempt++)
        {
            var removals = new List<(Membership, EventRecord?)>();
            foreach (var groupId in await groups.ListGroupIdsOfMemberAsync(directoryId, task.UserId, cancellationToken))
            {
                if (await groups.FindMembershipAsync(directoryId, groupId, task.UserId, cancellationToken) is not { } membership) continue;
                // A group deleted but not yet emptied by its own fan-out still names the removal.
                var group = await groups.FindGroupAsync(directoryId, groupId, cancellationToken)
                            ?? await groups.FindDeletedGroupAsync(directoryId, groupId, cancellationToken);
                var removed = group is null
                    ? null
                    : DirectoryEvents.Membership(directory, DirectoryEvents.GroupUserRemoved, clock.GetUtcNow(), group, task.UserId,
                        membership.MemberUserName);
                removals.Add((membership, removed));
            }
            if (removals.Count == 0) return;
            var outcome = await groups.RemoveMembershipsAsync(directoryId, removals, cancellationToken);
            if (outcome is SaveOutcome.Saved or SaveOutcome.NotFound) return;
        }
        throw new InvalidOperationException("The user's memberships kept changing while they were removed; retry.");
    }

    private async Task PurgeTenantAsync(TenantPurgeTask task, CancellationToken cancellationToken)
    {
        var tenantId = new TenantId(task.TenantId);
        // The purge is queued before the tenant row is deleted; a tenant that still exists means
        // that delete failed, and the administrator's retry queues a new purge.
        if (await tenants.FindAsync(tenantId, cancellationToken) is not null) return;

        foreach (var connection in await connections.ListAsync(tenantId, cancellationToken))
            await connections.DeleteAsync(connection, cancellationToken, [ConnectionEvents.DeletedEvent(connection, clock.GetUtcNow())]);

        var ofTenant = await directories.ListDirectoriesOfTenantAsync(tenantId, cancellationToken);
        var tasks = ofTenant.Select(d => new WorkEnvelope($"{task.TenantId}.purge.{d.Id.Value}", PurgeDirectory,
            JsonSerializer.Serialize(new TenantPurgeTask(task.TenantId, d.Id.Value), SsoJsonContext.Default.TenantPurgeTask))).ToList();
        if (tasks.Count > 0) await queue.SendAsync(QueueName, tasks, cancellationToken);
        LogTenantPurged(_logger, task.TenantId, tasks.Count);
    }

    private async Task PurgeDirectoryAsync(TenantPurgeTask task, CancellationToken cancellationToken)
    {
        if (task.DirectoryId is null) return;
        var directoryId = new DirectoryId(task.DirectoryId);
        // Only a directory of the deleted tenant: the task names both, and both must agree.
        if (await directories.FindDirectoryAsync(directoryId, cancellationToken) is { } directory && directory.TenantId.Value != task.TenantId)
            return;
        await guard.PurgeAsync(directoryId, cancellationToken);
        // A pulled directory's refresh token reads the customer's directory: it goes before the rows that name it.
        await secrets.DeleteAsync(DirectorySyncState.RefreshTokenSecretName(directoryId), cancellationToken);
        await directories.PurgeDirectoryAsync(directoryId, cancellationToken);
    }

    public static WorkEnvelope TenantPurge(TenantId tenantId) => new($"{tenantId.Value}.purge", PurgeTenant,
        JsonSerializer.Serialize(new TenantPurgeTask(tenantId.Value, null), SsoJsonContext.Default.TenantPurgeTask));

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked the access of a deprovisioned user (tenant {TenantId}, directory {DirectoryId})")]
    private static partial void LogRevoked(ILogger logger, string tenantId, string directoryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {TenantId} purged; {Count} directories queued for deletion")]
    private static partial void LogTenantPurged(ILogger logger, string tenantId, int count);
}
