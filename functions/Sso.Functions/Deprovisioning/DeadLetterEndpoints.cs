using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

using Sso.Functions.Outbox;

namespace Sso.Functions.Deprovisioning;

/// <summary>Work that failed every delivery, for an operator to inspect and replay.</summary>
public static class DeadLetterEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListDeadLetters", "/api/v1/deadletters", ["GET"], AdminApi.Require(ListAsync)),
        new("ReplayDeadLetter", "/api/v1/deadletters/{queue}/{deadLetterId}/replay", ["POST"], AdminApi.Require(ReplayAsync)),
    ];

    private static IReadOnlyList<string> QueueNames => FunctionTable.Queues.Select(q => q.QueueName).Distinct().ToList();

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var requested = context.Request.Query["queue"].ToString();
        if (requested.Length > 0 && !QueueNames.Contains(requested))
            return ProblemResults.Write(Problem.Validation($"'queue' must be one of: {string.Join(", ", QueueNames)}."));
        var max = int.TryParse(context.Request.Query["limit"], out var l) ? Math.Clamp(l, 1, 100) : 32;
        var deadLetters = context.RequestServices.GetRequiredService<IDeadLetterQueue>();
        // Side by side, so the queues' waits do not add up: the slowest one bounds the answer.
        var lists = await Task.WhenAll((requested.Length > 0 ? [requested] : QueueNames)
            .Select(queue => deadLetters.ListAsync(queue, max, context.RequestAborted)));
        return JsonResults.Ok(new DeadLetterList(lists.SelectMany(list => list).ToArray()), SsoJsonContext.Default.DeadLetterList);
    }

    private static async Task<IResult> ReplayAsync(HttpContext context)
    {
        var queue = context.RouteString("queue");
        var id = context.RouteString("deadLetterId");
        if (!QueueNames.Contains(queue)) return ProblemResults.Write(Problem.NotFound("queue", queue));
        var replayed = await context.RequestServices.GetRequiredService<IDeadLetterQueue>().ReplayAsync(queue, id, context.RequestAborted);
        return replayed
            ? Results.Json(new DeadLetterReplayed(queue, id), SsoJsonContext.Default.DeadLetterReplayed, statusCode: 202)
            : ProblemResults.Write(Problem.NotFound("dead letter", id));
    }
}

public sealed record DeadLetterList(DeadLetter[] Data);

public sealed record DeadLetterReplayed(string Queue, string Id);
