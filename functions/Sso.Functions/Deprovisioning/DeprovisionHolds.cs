using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;

namespace Sso.Functions.Deprovisioning;

/// <summary>
/// The operations on mass-deprovisioning holds, for the management API and the operator console
/// alike: typed inputs, a <see cref="Problem"/> for what the caller got wrong, no HTTP.
/// </summary>
public sealed class DeprovisionHolds(MassDeprovisionGuard guard, DirectoryRecordStore directories)
{
    public async Task<Result<DirectoryRecord, Problem>> FindDirectoryAsync(string rawDirectoryId, CancellationToken cancellationToken) =>
        DirectoryId.TryParse(rawDirectoryId, out var id) && await directories.FindDirectoryAsync(id, cancellationToken) is { } directory
            ? directory
            : Problem.NotFound("directory", rawDirectoryId);

    public Task<IReadOnlyList<JsonObject>> ListAsync(DirectoryRecord directory, CancellationToken cancellationToken) =>
        guard.ListAsync(directory.Id, cancellationToken);

    /// <summary>Every hold still waiting for a decision, in every directory.</summary>
    public Task<IReadOnlyList<JsonObject>> ListUndecidedAsync(CancellationToken cancellationToken) => guard.ListUndecidedAsync(cancellationToken);

    public async Task<Result<JsonObject, Problem>> FindAsync(DirectoryRecord directory, string holdId, CancellationToken cancellationToken) =>
        await guard.FindAsync(directory.Id, holdId, cancellationToken) is { } hold ? hold : Problem.NotFound("hold", holdId);

    /// <summary>Releases or cancels the hold; the same decision again answers the hold, the other one is a 409.</summary>
    public async Task<Result<JsonObject, Problem>> DecideAsync(DirectoryRecord directory, string holdId, MassDeprovisionGuard.Decision decision,
        CancellationToken cancellationToken)
    {
        var (outcome, hold) = await guard.DecideAsync(directory, holdId, decision, cancellationToken);
        return outcome switch
        {
            MassDeprovisionGuard.DecisionOutcome.Done => hold!,
            MassDeprovisionGuard.DecisionOutcome.NotFound => Problem.NotFound("hold", holdId),
            _ => Problem.Conflict(hold?["status"]?.GetValue<string>() is { } status
                ? $"The hold is {status}; it cannot be {(decision == MassDeprovisionGuard.Decision.Release ? "released" : "cancelled")} now."
                : "The hold kept changing; retry the request."),
        };
    }
}
