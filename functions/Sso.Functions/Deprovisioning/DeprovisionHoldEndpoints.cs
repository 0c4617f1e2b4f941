using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;

using Sso.Functions.Outbox;

namespace Sso.Functions.Deprovisioning;

/// <summary>
/// The administrator's side of the mass-deprovisioning guard: the holds of a directory, and the
/// decision on one (release: run everything parked, in order; cancel: run none of it).
/// </summary>
public static class DeprovisionHoldEndpoints
{
    private const string Base = "/api/v1/directories/{directoryId}/holds";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListDeprovisionHolds", Base, ["GET"], AdminApi.Require(ListAsync)),
        new("GetDeprovisionHold", Base + "/{holdId}", ["GET"], AdminApi.Require(GetAsync)),
        new("ReleaseDeprovisionHold", Base + "/{holdId}/release", ["POST"], AdminApi.Require(context => DecideAsync(context, MassDeprovisionGuard.Decision.Release))),
        new("CancelDeprovisionHold", Base + "/{holdId}/cancel", ["POST"], AdminApi.Require(context => DecideAsync(context, MassDeprovisionGuard.Decision.Cancel))),
    ];

    private static async Task<DirectoryRecord?> FindDirectoryAsync(HttpContext context)
    {
        if (!DirectoryId.TryParse(context.RouteString("directoryId"), out var id)) return null;
        var directory = await context.RequestServices.GetRequiredService<DirectoryRecordStore>().FindDirectoryAsync(id, context.RequestAborted);
        if (directory is not null) context.Items[RequestPipeline.TenantItem] = directory.TenantId.Value;
        return directory;
    }

    private static IResult DirectoryNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("directory", context.RouteString("directoryId")));

    private static IResult HoldNotFound(HttpContext context) => ProblemResults.Write(Problem.NotFound("hold", context.RouteString("holdId")));

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (await FindDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        var holds = await context.RequestServices.GetRequiredService<MassDeprovisionGuard>().ListAsync(directory.Id, context.RequestAborted);
        return DirectoryEndpoints.Json(new JsonObject { ["data"] = new JsonArray(holds.Select(h => (JsonNode)h).ToArray()) });
    }

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        if (await FindDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        var hold = await context.RequestServices.GetRequiredService<MassDeprovisionGuard>()
            .FindAsync(directory.Id, context.RouteString("holdId"), context.RequestAborted);
        return hold is null ? HoldNotFound(context) : DirectoryEndpoints.Json(hold);
    }

    private static async Task<IResult> DecideAsync(HttpContext context, MassDeprovisionGuard.Decision decision)
    {
        if (await FindDirectoryAsync(context) is not { } directory) return DirectoryNotFound(context);
        var (outcome, hold) = await context.RequestServices.GetRequiredService<MassDeprovisionGuard>()
            .DecideAsync(directory, context.RouteString("holdId"), decision, context.RequestAborted);
        return outcome switch
        {
            MassDeprovisionGuard.DecisionOutcome.Done => DirectoryEndpoints.Json(hold!),
            MassDeprovisionGuard.DecisionOutcome.NotFound => HoldNotFound(context),
            _ => ProblemResults.Write(Problem.Conflict(hold?["status"]?.GetValue<string>() is { } status
                ? $"The hold is {status}; it cannot be {(decision == MassDeprovisionGuard.Decision.Release ? "released" : "cancelled")} now."
                : "The hold kept changing; retry the request.")),
        };
    }
}
