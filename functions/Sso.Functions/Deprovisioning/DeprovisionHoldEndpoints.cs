using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;

namespace Sso.Functions.Deprovisioning;

/// <summary>
/// The administrator's side of the mass-deprovisioning guard: the holds of a directory, and the
/// decision on one (release: run everything parked, in order; cancel: run none of it).
/// The operations are <see cref="DeprovisionHolds"/>'s.
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

    private static async Task<Result<DirectoryRecord, Problem>> FindDirectoryAsync(HttpContext context, DeprovisionHolds holds)
    {
        var found = await holds.FindDirectoryAsync(context.RouteString("directoryId"), context.RequestAborted);
        if (found.IsSuccess) context.Items[RequestPipeline.TenantItem] = found.Value.TenantId.Value;
        return found;
    }

    private static IResult Write(Result<JsonObject, Problem> result) =>
        result.IsSuccess ? DirectoryEndpoints.Json(result.Value) : ProblemResults.Write(result.Error);

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var holds = context.RequestServices.GetRequiredService<DeprovisionHolds>();
        if (!(await FindDirectoryAsync(context, holds)).TryGetValue(out var directory, out var problem)) return ProblemResults.Write(problem);
        var list = await holds.ListAsync(directory, context.RequestAborted);
        return DirectoryEndpoints.Json(new JsonObject { ["data"] = new JsonArray(list.Select(h => (JsonNode)h).ToArray()) });
    }

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        var holds = context.RequestServices.GetRequiredService<DeprovisionHolds>();
        if (!(await FindDirectoryAsync(context, holds)).TryGetValue(out var directory, out var problem)) return ProblemResults.Write(problem);
        return Write(await holds.FindAsync(directory, context.RouteString("holdId"), context.RequestAborted));
    }

    private static async Task<IResult> DecideAsync(HttpContext context, MassDeprovisionGuard.Decision decision)
    {
        var holds = context.RequestServices.GetRequiredService<DeprovisionHolds>();
        if (!(await FindDirectoryAsync(context, holds)).TryGetValue(out var directory, out var problem)) return ProblemResults.Write(problem);
        return Write(await holds.DecideAsync(directory, context.RouteString("holdId"), decision, context.RequestAborted));
    }
}
