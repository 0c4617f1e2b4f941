using Sso.Functions.Storage;

namespace Sso.Functions.Hosting;

public static class HealthEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("Health", "/health", ["GET"], GetHealthAsync),
    ];

    private static async Task<IResult> GetHealthAsync(HttpContext context)
    {
        var storage = context.RequestServices.GetRequiredService<TableStorage>();
        var reachable = await storage.IsReachableAsync(context.RequestAborted);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(
            new HealthReport(reachable ? "ok" : "unavailable", reachable ? "ok" : "unreachable"),
            SsoJsonContext.Default.HealthReport,
            statusCode: reachable ? 200 : 503);
    }
}

public sealed record HealthReport(string Status, string Storage);
