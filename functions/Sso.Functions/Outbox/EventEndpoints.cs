using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary><c>GET /api/v1/events?after=&amp;limit=&amp;tenantId=</c>: the ordered feed of every tenant's events.</summary>
public static class EventEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListEvents", "/api/v1/events", ["GET"], AdminApi.Require(ListAsync)),
    ];

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var limit = 100;
        if (query["limit"].ToString() is { Length: > 0 } rawLimit && (!int.TryParse(rawLimit, out limit) || limit < 1 || limit > 1000))
            return ProblemResults.Write(Problem.Validation("'limit' must be an integer from 1 to 1000."));
        string? tenantId = null;
        if (query["tenantId"].ToString() is { Length: > 0 } rawTenant)
        {
            if (!TenantId.TryParse(rawTenant, out var parsed)) return ProblemResults.Write(Problem.Validation("'tenantId' is not a tenant id."));
            tenantId = parsed.Value;
            context.Items[RequestPipeline.TenantItem] = tenantId;
        }
        var after = query["after"].ToString() is { Length: > 0 } cursor ? cursor : null;
        if (after is not null && (after.Length > 64 || !after.StartsWith("evt_", StringComparison.Ordinal) || !after.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
            return ProblemResults.Write(Problem.Validation("'after' must be a cursor returned by this endpoint."));

        var feed = context.RequestServices.GetRequiredService<EventFeedStore>();
        var (events, next) = await feed.ReadAsync(tenantId, after, limit, context.RequestAborted);
        return DirectoryEndpoints.Json(new JsonObject
        {
            ["data"] = new JsonArray(events.Select(e => (JsonNode)e.ToJson()).ToArray()),
            ["nextCursor"] = next,
        });
    }
}
