using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Tenants;

using Sso.Functions.Outbox;

namespace Sso.Functions.Deprovisioning;

/// <summary>What a <c>group.remove-memberships</c> task works on: one chunk of a deleted group's members.</summary>
public sealed record GroupMembershipTask(string TenantId, string DirectoryId, string GroupId, string EventId, string[] MemberIds);

/// <summary>
/// The fan-out of a deleted group (<c>dsync.group.deleted</c>): its members in chunks of
/// <see cref="ChunkSize"/>, one task each on the "deprovision" queue. A task removes exactly the
/// members it names, so chunks never overlap in effect and a redelivered one finds its rows gone.
/// </summary>
public static class GroupMembershipRemoval
{
    public const int ChunkSize = 100;

    /// <summary>
    /// One task per chunk of the members left now. The message id is the event id and a hash of
    /// the chunk's member ids: a repeated dispatch that lists the same members sends the same ids
    /// (Service Bus drops them), and one that lists fewer (some already removed by a user's
    /// deprovisioning) sends new ids instead of colliding with a chunk that covered other members.
    /// </summary>
    public static async Task<IReadOnlyList<WorkEnvelope>> TasksAsync(EventRecord record, DirectoryGroupStore store, CancellationToken cancellationToken)
    {
        if (record.Type != DirectoryEvents.GroupDeleted || record.DirectoryId is null
            || record.Data["id"]?.GetValue<string>() is not { } groupId)
            return [];
        var members = await store.ListMembersAsync(new DirectoryId(record.DirectoryId), groupId, cancellationToken);
        // An empty group still gets one task: it removes the tombstone.
        var chunks = members.Count == 0 ? [[]] : members.Select(m => m.MemberId).Chunk(ChunkSize).ToList();
        return chunks.Select(chunk =>
        {
            var task = new GroupMembershipTask(record.TenantId, record.DirectoryId, groupId, record.Id, chunk);
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(',', chunk))))[..16];
            return new WorkEnvelope($"{record.Id}.{DeprovisionWorker.RemoveGroupMemberships}.{hash}", DeprovisionWorker.RemoveGroupMemberships,
                JsonSerializer.Serialize(task, SsoJsonContext.Default.GroupMembershipTask));
        }).ToList();
    }

    /// <summary>
    /// Removes the chunk's membership rows that are still there, each with its
    /// <c>dsync.group.user_removed</c> event and, where the member's role changes, its
    /// <c>dsync.user.role_changed</c>; then removes the tombstone when no member is left.
    /// </summary>
    public static async Task RunAsync(GroupMembershipTask task, DirectoryRecordStore directories, DirectoryUserStore users, DirectoryGroupStore store,
        TenantStore tenants, TimeProvider clock, CancellationToken cancellationToken)
    {
        var directoryId = new DirectoryId(task.DirectoryId);
        if (await directories.FindDirectoryAsync(directoryId, cancellationToken) is not { } directory || directory.TenantId.Value != task.TenantId) return;
        // No tombstone: every chunk is done (the last one removed it), so this is a redelivery.
        if (await store.FindDeletedGroupAsync(directoryId, task.GroupId, cancellationToken) is not { } group) return;

        var settings = await RoleChanges.SettingsAsync(tenants, directory, cancellationToken);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var found = await Task.WhenAll(task.MemberIds.Distinct(StringComparer.Ordinal)
                .Select(memberId => store.FindMembershipAsync(directoryId, task.GroupId, memberId, cancellationToken)));
            var memberships = found.OfType<Membership>().ToList();
            if (memberships.Count == 0) break;

            var now = clock.GetUtcNow();
            // Roles as the member had them with the group and has them now without it.
            var roleChanges = await RoleChanges.ForGroupChangeAsync(users, store, directory, settings, group.Id, group.DisplayName, null,
                [], memberships.Select(m => m.MemberId).ToList(), [], now, cancellationToken);
            var units = memberships.Select(m =>
            {
                var unit = DirectoryGroupStore.MembershipRemoval(directoryId, m,
                    DirectoryEvents.Membership(directory, DirectoryEvents.GroupUserRemoved, now, group, m.MemberId, m.MemberUserName));
                if (roleChanges.TryGetValue(m.MemberId, out var roleChanged)) unit.Events.Add(roleChanged);
                return unit;
            }).ToList();
            // Stale or NotFound: a user's own deprovisioning removed or touched a row meanwhile; read again.
            if (await store.RemoveMembersAsync(directoryId, units, cancellationToken) == SaveOutcome.Saved) break;
            if (attempt == 4) throw new InvalidOperationException("The group's memberships kept changing while they were removed; retry.");
        }
        await store.FinishGroupDeletionAsync(directoryId, task.GroupId, cancellationToken);
    }
}
