using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Deprovisioning;

/// <summary>Work that failed every delivery, for an operator to inspect and replay (<see cref="DeadLetters"/>).</summary>
public static class DeadLetterEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListDeadLetters", "/api/v1/deadletters", ["GET"], AdminApi.Require(ListAsync)),
        new("ReplayDeadLetter", "/api/v1/deadletters/{queue}/{deadLetterId}/replay", ["POST"], AdminApi.Require(ReplayAsync)),
    ];

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var requested = context.Request.Query["queue"].ToString();
        var limit = int.TryParse(context.Request.Query["limit"], out var l) ? l : DeadLetters.DefaultLimit;
        var listed = await context.RequestServices.GetRequiredService<DeadLetters>()
            .ListAsync(requested.Length > 0 ? requested : null, limit, context.RequestAborted);
        return listed.TryGetValue(out var list, out var problem)
            ? JsonResults.Ok(new DeadLetterList(list.ToArray()), SsoJsonContext.Default.DeadLetterList)
            : ProblemResults.Write(problem);
    }

    private static async Task<IResult> ReplayAsync(HttpContext context)
    {
        var replayed = await context.RequestServices.GetRequiredService<DeadLetters>()
            .ReplayAsync(context.RouteString("queue"), context.RouteString("deadLetterId"), context.RequestAborted);
        return replayed.TryGetValue(out var done, out var problem)
            ? Results.Json(done, SsoJsonContext.Default.DeadLetterReplayed, statusCode: 202)
            : ProblemResults.Write(problem);
    }
}

public sealed record DeadLetterList(DeadLetter[] Data);

public sealed record DeadLetterReplayed(string Queue, string Id);
