using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>
/// <c>GET /api/v1/events?after=&amp;limit=&amp;tenantId=</c>: the feed of every tenant's events, in the
/// order <see cref="EventFeedStore"/> describes; <c>after</c> is a <see cref="FeedCursor"/>.
/// </summary>
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
        var after = query["after"].ToString() is { Length: > 0 } raw ? raw : null;
        var cursor = FeedCursor.Start(tenantId);
        if (after is not null)
        {
            var parsed = FeedCursor.Parse(after, tenantId);
            if (!parsed.TryGetValue(out cursor, out var error)) return ProblemResults.Write(Problem.Validation(error));
        }

        var feed = context.RequestServices.GetRequiredService<EventFeedStore>();
        var (events, next) = await feed.ReadAsync(tenantId, cursor, limit, context.RequestAborted);
        return Results.Text(new JsonObject
        {
            ["data"] = new JsonArray(events.Select(e => (JsonNode)e.ToJson()).ToArray()),
            // With no new events the caller keeps its cursor.
            ["nextCursor"] = events.Count > 0 ? next.Encode(tenantId) : after,
        }.ToJsonString(), "application/json", Encoding.UTF8);
    }
}
