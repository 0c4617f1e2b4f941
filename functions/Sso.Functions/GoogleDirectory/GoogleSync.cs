using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tenants;

namespace Sso.Functions.GoogleDirectory;

/// <summary>One step of a sync run: a page of users or groups (with each group's members), or the run's end.</summary>
public sealed record GoogleSyncTask(string DirectoryId, string RunId, string Step, string? PageToken, int Attempt);

public enum SyncStart { Started, AlreadyRunning, NotConnected, NotFound }

/// <summary>
/// Pulls a Google Workspace directory in chunks: one queue message per page (users, then groups
/// with their direct members), each with a fresh access token from the refresh token, so a sync of
/// 100,000 users is many short invocations. Every page's users and groups are written through
/// <see cref="DirectoryChanges"/> (the SCIM directory's writes and events) and marked seen; only the
/// run's end, reached after every page was read, deprovisions the users and deletes the groups
/// the listing no longer holds. A page Google keeps failing (429, 5xx) ends the run as failed and
/// changes nothing for absent users; a revoked grant asks for a new authorization.
/// </summary>
public sealed partial class GoogleSync(
    DirectorySyncStore store, DirectoryRecordStore directories, DirectoryUserStore users, DirectoryGroupStore groups, DirectoryChanges changes,
    TenantStore tenants, GoogleApi google, GoogleOptions options, GoogleAuthorization authorization, ISecretStore secrets,
    IWorkQueue queue, TimeProvider clock, ILogger<GoogleSync> logger)
{
    public const string QueueName = "google-sync";
    public const string UsersStep = "users";
    public const string GroupsStep = "groups";
    public const string FinishStep = "finish";

    /// <summary>A run that made no progress for this long is taken as lost (its message dead-lettered); a new one may start.</summary>
    public static readonly TimeSpan RunLostAfter = TimeSpan.FromHours(1);

    /// <summary>
    /// The longest a page waits before its retry, whatever Google's <c>Retry-After</c> says: well
    /// within <see cref="RunLostAfter"/>, so a waiting run is never taken as lost.
    /// </summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(30);

    /// <summary>How many users or groups of one page are written at once.</summary>
    private const int Parallelism = 8;

    /// <summary>
    /// Groups asked for per page. A groups step lists every member page of each of its groups and
    /// writes them all, so it holds far fewer groups than a users step holds users (500): a step
    /// stays a short invocation however many groups the directory has.
    /// </summary>
    public const int GroupsPerPage = 20;

    public static QueueFunction Function { get; } = new("GoogleDirectorySyncWorker", QueueName,
        (item, services, cancellationToken) => services.GetRequiredService<GoogleSync>().HandleAsync(item, cancellationToken));

    public static TimerFunction Timer { get; } = new("GoogleDirectorySyncTimer", "0 * * * * *", async (services, cancellationToken) =>
    {
        await services.GetRequiredService<GoogleSync>().StartDueAsync(cancellationToken);
        await services.GetRequiredService<GoogleAuthorization>().SweepExpiredAsync(cancellationToken);
    });

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("GoogleDirectorySync", "/api/v1/directories/{directoryId}/sync", ["POST"], AdminApi.Require(SyncAsync)),
    ];

    private static async Task<IResult> SyncAsync(HttpContext context)
    {
        var directoryId = context.RouteString("directoryId");
        var store = context.RequestServices.GetRequiredService<DirectoryRecordStore>();
        if (!DirectoryId.TryParse(directoryId, out var id) || await store.FindDirectoryAsync(id, context.RequestAborted) is not { } directory
            || directory.Provider != DirectoryProviders.GoogleDirectory)
            return ProblemResults.Write(Problem.NotFound("directory", directoryId));
        context.Items[RequestPipeline.TenantItem] = directory.TenantId.Value;
        return await context.RequestServices.GetRequiredService<GoogleSync>().StartAsync(id, context.RequestAborted) switch
        {
            SyncStart.NotConnected => ProblemResults.Write(Problem.Conflict(
                "The directory is not authorized: its Google admin must authorize it first (state needs_authorization).")),
            SyncStart.NotFound => ProblemResults.Write(Problem.NotFound("directory", directoryId)),
            var started => DirectoryEndpoints.Json(new JsonObject { ["status"] = started == SyncStart.Started ? "queued" : "running" },
                StatusCodes.Status202Accepted),
        };
    }

    public async Task<SyncStart> StartAsync(DirectoryId directoryId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await store.FindSyncStateAsync(directoryId, cancellationToken) is not { } before) return SyncStart.NotFound;
            if (before.State != DirectorySyncState.Connected) return SyncStart.NotConnected;
            var now = clock.GetUtcNow();
            if (before.RunId is not null && before.RunActiveAt is { } active && now - active < RunLostAfter) return SyncStart.AlreadyRunning;
            var runId = Ids.New("run_");
            var after = before with { RunId = runId, RunActiveAt = now, RunUsers = 0, RunGroups = 0, Created = 0, Updated = 0 };
            if (await store.SaveSyncStateAsync(before, after, [], cancellationToken) != SaveOutcome.Saved) continue;
            await SendAsync(new GoogleSyncTask(directoryId.Value, runId, UsersStep, null, 0), TimeSpan.Zero, cancellationToken);
            LogStarted(logger, directoryId.Value, runId);
            return SyncStart.Started;
        }
        return SyncStart.AlreadyRunning;
    }

    /// <summary>The timer: every connected directory whose last sync is <c>Google:SyncMinutes</c> old.</summary>
    public async Task StartDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = new List<DirectoryId>();
        await foreach (var state in store.QuerySyncStatesAsync(cancellationToken))
            if (state.State == DirectorySyncState.Connected && (state.LastSyncAt is not { } last || now - last >= options.SyncInterval))
                due.Add(state.DirectoryId);
        foreach (var directoryId in due) await StartAsync(directoryId, cancellationToken);
    }

    /// <summary>A page's short name within its run: "first", or a hash of Google's page token.</summary>
    private static string PageKey(string? pageToken) =>
        pageToken is null ? "first" : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(pageToken)))[..16];

    private Task SendAsync(GoogleSyncTask task, TimeSpan delay, CancellationToken cancellationToken)
    {
        var page = PageKey(task.PageToken);
        var envelope = new WorkEnvelope($"{task.DirectoryId}.{task.RunId}.{task.Step}.{page}.{task.Attempt}", task.Step,
            JsonSerializer.Serialize(task, SsoJsonContext.Default.GoogleSyncTask));
        return delay > TimeSpan.Zero
            ? queue.SendLaterAsync(QueueName, envelope, delay, cancellationToken)
            : queue.SendAsync(QueueName, [envelope], cancellationToken);
    }

    public async Task HandleAsync(WorkItem item, CancellationToken cancellationToken)
    {
        GoogleSyncTask? task;
        try
        {
            task = JsonSerializer.Deserialize(item.Body, SsoJsonContext.Default.GoogleSyncTask);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Task {item.MessageId} is unreadable.", e);
        }
        if (task is null || !DirectoryId.TryParse(task.DirectoryId, out var directoryId)) throw new InvalidDataException($"Task {item.MessageId} is empty.");
        // Only the directory's current run goes on: a message of a replaced or finished run is dropped.
        if (await store.FindSyncStateAsync(directoryId, cancellationToken) is not { } state || state.RunId != task.RunId) return;
        if (await directories.FindDirectoryAsync(directoryId, cancellationToken) is not { } directory) return;

        if (task.Step == FinishStep)
        {
            await FinishAsync(directory, task, cancellationToken);
            return;
        }
        if (await secrets.GetAsync(GoogleAuthorization.RefreshTokenSecretName(directoryId), cancellationToken) is not { } refreshToken)
        {
            await RequireAuthorizationAsync(directory, task, "No refresh token is stored.", cancellationToken);
            return;
        }
        var token = await google.RefreshAsync(refreshToken, cancellationToken);
        if (!await AcceptAsync(directory, task, token, cancellationToken)) return;
        if (GoogleMapping.String(token.Body!["access_token"]) is not { Length: > 0 } accessToken)
        {
            await FailAsync(directory, task, "Google's token answer held no access_token.", cancellationToken);
            return;
        }

        var settings = await RoleChanges.SettingsAsync(tenants, directory, cancellationToken);
        var pageToken = task.PageToken is null ? "" : "&pageToken=" + Uri.EscapeDataString(task.PageToken);
        string? next;
        if (task.Step == UsersStep)
        {
            var page = await google.ListAsync("/admin/directory/v1/users?customer=my_customer&maxResults=500&projection=full" + pageToken, accessToken,
                cancellationToken);
            if (!await AcceptAsync(directory, task, page, cancellationToken)) return;
            var listedUsers = (page.Body!["users"] as JsonArray ?? []).OfType<JsonObject>().Select(GoogleMapping.User)
                .OfType<(string Id, JsonObject Resource)>().DistinctBy(u => u.Id).ToList();
            // Users are independent rows: a page's reads run side by side, its new users are created
            // many to a transaction, a changed one is still read-change-save under its own ETag.
            var userOutcomes = await changes.PutUsersAsync(directory, settings, listedUsers, Parallelism, cancellationToken);
            foreach (var _ in userOutcomes.Where(o => o == DirectoryChanges.Outcome.Refused)) LogUserRefused(logger, directoryId.Value);
            var created = userOutcomes.Count(o => o == DirectoryChanges.Outcome.Created);
            var updated = userOutcomes.Count(o => o == DirectoryChanges.Outcome.Updated);
            var seen = listedUsers.Select(u => u.Id).ToList();
            await store.MarkSeenAsync(directoryId, task.RunId, UsersStep, PageKey(task.PageToken), seen, cancellationToken);
            next = GoogleMapping.String(page.Body["nextPageToken"]);
            if (!await ProgressAsync(directoryId, task.RunId,
                    s => s with { RunUsers = s.RunUsers + seen.Count, Created = s.Created + created, Updated = s.Updated + updated }, cancellationToken))
                return;
            await SendAsync(next is { Length: > 0 }
                ? task with { PageToken = next, Attempt = 0 }
                : task with { Step = GroupsStep, PageToken = null, Attempt = 0 }, TimeSpan.Zero, cancellationToken);
            return;
        }

        var groups = await google.ListAsync($"/admin/directory/v1/groups?customer=my_customer&maxResults={GroupsPerPage}" + pageToken, accessToken, cancellationToken);
        if (!await AcceptAsync(directory, task, groups, cancellationToken)) return;
        var listed = new List<(string Id, JsonObject Resource, List<string> Members)>();
        foreach (var raw in (groups.Body!["groups"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (GoogleMapping.Group(raw) is not { } group) continue;
            // Every page of the group's members, or the whole message is tried again.
            var members = new List<string>();
            string? memberPage = null;
            do
            {
                var answer = await google.ListAsync($"/admin/directory/v1/groups/{Uri.EscapeDataString(GoogleMapping.String(raw["id"])!)}/members?maxResults=200"
                                                    + (memberPage is null ? "" : "&pageToken=" + Uri.EscapeDataString(memberPage)), accessToken, cancellationToken);
                if (!await AcceptAsync(directory, task, answer, cancellationToken)) return;
                members.AddRange(GoogleMapping.UserMembers(answer.Body!));
                memberPage = GoogleMapping.String(answer.Body!["nextPageToken"]);
            } while (memberPage is { Length: > 0 });
            listed.Add((group.Id, group.Resource, members));
        }
        var outcomes = await changes.PutGroupsAsync(directory, settings,
            listed.DistinctBy(g => g.Id).Select(g => new DirectoryChanges.ListedGroup(g.Id, g.Resource, g.Members)).ToList(), Parallelism, cancellationToken);
        var groupsCreated = outcomes.Count(o => o == DirectoryChanges.Outcome.Created);
        var groupsUpdated = outcomes.Count(o => o == DirectoryChanges.Outcome.Updated);
        await store.MarkSeenAsync(directoryId, task.RunId, GroupsStep, PageKey(task.PageToken), listed.Select(g => g.Id), cancellationToken);
        next = GoogleMapping.String(groups.Body["nextPageToken"]);
        if (!await ProgressAsync(directoryId, task.RunId,
                s => s with { RunGroups = s.RunGroups + listed.Count, Created = s.Created + groupsCreated, Updated = s.Updated + groupsUpdated },
                cancellationToken))
            return;
        await SendAsync(next is { Length: > 0 }
            ? task with { PageToken = next, Attempt = 0 }
            : task with { Step = FinishStep, PageToken = null, Attempt = 0 }, TimeSpan.Zero, cancellationToken);
    }

    /// <summary>
    /// The listing is complete: every page of users and groups was read. Only now are the users it
    /// no longer holds deprovisioned (each <c>dsync.user.deprovisioned</c> passes the mass-deprovisioning
    /// guard at dispatch, as a SCIM one does) and the groups it no longer holds deleted.
    /// </summary>
    private async Task FinishAsync(DirectoryRecord directory, GoogleSyncTask task, CancellationToken cancellationToken)
    {
        var seenUsers = await store.ListSeenAsync(directory.Id, task.RunId, UsersStep, cancellationToken);
        var seenGroups = await store.ListSeenAsync(directory.Id, task.RunId, GroupsStep, cancellationToken);
        var absentUsers = new List<string>();
        await foreach (var user in users.QueryUsersAsync(directory.Id, includeDeleted: false, cancellationToken))
            if (user.Id.StartsWith(GoogleMapping.UserIdPrefix, StringComparison.Ordinal) && !seenUsers.Contains(user.Id))
                absentUsers.Add(user.Id);
        var absentGroups = new List<string>();
        await foreach (var group in groups.QueryGroupsAsync(directory.Id, cancellationToken))
            if (group.Id.StartsWith(GoogleMapping.GroupIdPrefix, StringComparison.Ordinal) && !seenGroups.Contains(group.Id))
                absentGroups.Add(group.Id);
        var deprovisioned = 0;
        foreach (var userId in absentUsers)
            if (await changes.DeprovisionUserAsync(directory, userId, "deleted", cancellationToken)
                == DirectoryChanges.Outcome.Deprovisioned)
                deprovisioned++;
        foreach (var groupId in absentGroups)
            await changes.DeleteGroupAsync(directory, groupId, cancellationToken);
        var now = clock.GetUtcNow();
        if (!await ProgressAsync(directory.Id, task.RunId, s => s with
            {
                RunId = null, RunActiveAt = null, LastSyncAt = now, LastSyncResult = "succeeded", LastSyncError = null,
                Users = seenUsers.Count, Groups = seenGroups.Count, Deprovisioned = deprovisioned,
            }, cancellationToken))
            return;
        await store.DeleteSeenAsync(directory.Id, null, cancellationToken);
        LogFinished(logger, directory.Id.Value, task.RunId, seenUsers.Count, seenGroups.Count, deprovisioned);
    }

    /// <summary>Whether the step may go on with Google's answer; otherwise the retry, the failure or the re-authorization is done.</summary>
    private async Task<bool> AcceptAsync(DirectoryRecord directory, GoogleSyncTask task, GoogleAnswer answer, CancellationToken cancellationToken)
    {
        switch (answer.Outcome)
        {
            case GoogleOutcome.Ok:
                return true;
            case GoogleOutcome.InvalidGrant:
                await RequireAuthorizationAsync(directory, task, answer.Detail, cancellationToken);
                return false;
            case GoogleOutcome.Retry when task.Attempt + 1 < GoogleOptions.MaxAttempts:
                var delay = RetryDelay(answer.RetryAfter, options.DelayBefore(task.Attempt + 2));
                LogRetry(logger, directory.Id.Value, answer.Detail, task.Attempt + 2, delay.TotalSeconds);
                if (await ProgressAsync(directory.Id, task.RunId, s => s, cancellationToken))
                    await SendAsync(task with { Attempt = task.Attempt + 1 }, delay, cancellationToken);
                return false;
            default:
                await FailAsync(directory, task, answer.Detail, cancellationToken);
                return false;
        }
    }

    /// <summary>At least what Google asked for (<c>Retry-After</c>) and at least the backoff, at most <see cref="MaxRetryDelay"/>.</summary>
    public static TimeSpan RetryDelay(TimeSpan? retryAfter, TimeSpan backoff)
    {
        var delay = retryAfter is { } asked && asked > backoff ? asked : backoff;
        return delay < MaxRetryDelay ? delay : MaxRetryDelay;
    }

    /// <summary>Ends the run as failed: nothing is deprovisioned, the marks of the run go.</summary>
    private async Task FailAsync(DirectoryRecord directory, GoogleSyncTask task, string detail, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        LogFailed(logger, directory.Id.Value, task.RunId, detail);
        if (await ProgressAsync(directory.Id, task.RunId,
                s => s with { RunId = null, RunActiveAt = null, LastSyncAt = now, LastSyncResult = "failed", LastSyncError = detail }, cancellationToken))
            await store.DeleteSeenAsync(directory.Id, null, cancellationToken);
    }

    private async Task RequireAuthorizationAsync(DirectoryRecord directory, GoogleSyncTask task, string detail, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        LogAuthorizationRequired(logger, directory.Id.Value);
        var required = DirectoryEvents.Create(directory, GoogleAuthorization.AuthorizationRequiredEvent, now, new JsonObject
        {
            ["directoryId"] = directory.Id.Value,
            ["provider"] = directory.Provider,
            ["reason"] = detail,
        });
        await authorization.SetStateAsync(directory.Id, DirectorySyncState.NeedsAuthorization, required, cancellationToken,
            s => s with { RunId = null, RunActiveAt = null, LastSyncAt = now, LastSyncResult = "authorization_required", LastSyncError = detail });
        await store.DeleteSeenAsync(directory.Id, null, cancellationToken);
    }

    /// <summary>Changes the sync row while the run is still the directory's current one; false when it no longer is.</summary>
    private async Task<bool> ProgressAsync(DirectoryId directoryId, string runId, Func<DirectorySyncState, DirectorySyncState> change,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await store.FindSyncStateAsync(directoryId, cancellationToken) is not { } before || before.RunId != runId) return false;
            var after = change(before with { RunActiveAt = clock.GetUtcNow() });
            if (await store.SaveSyncStateAsync(before, after, [], cancellationToken) == SaveOutcome.Saved) return true;
        }
        throw new InvalidOperationException("The directory's sync state kept changing; retry.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Google directory {DirectoryId}: sync {RunId} started")]
    private static partial void LogStarted(ILogger logger, string directoryId, string runId);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Google directory {DirectoryId}: sync {RunId} complete, {Users} users, {Groups} groups, {Deprovisioned} deprovisioned")]
    private static partial void LogFinished(ILogger logger, string directoryId, string runId, int users, int groups, int deprovisioned);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Google directory {DirectoryId}: {Detail}; attempt {Attempt} queued in {DelaySeconds} s")]
    private static partial void LogRetry(ILogger logger, string directoryId, string detail, int attempt, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Google directory {DirectoryId}: sync {RunId} failed ({Detail}); nobody was deprovisioned")]
    private static partial void LogFailed(ILogger logger, string directoryId, string runId, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Google directory {DirectoryId}: the grant is revoked; the directory needs a new authorization")]
    private static partial void LogAuthorizationRequired(ILogger logger, string directoryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Google directory {DirectoryId}: a user was skipped, its userName is held by another user")]
    private static partial void LogUserRefused(ILogger logger, string directoryId);
}
