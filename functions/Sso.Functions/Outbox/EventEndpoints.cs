using System.Text;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>
/// <c>GET /api/v1/events?after=&amp;limit=&amp;tenantId=</c>: the feed of every tenant's events, in the
/// order <see cref="EventFeedStore"/> describes; <c>after</c> is a <see cref="FeedCursor"/>. The
/// operation is <see cref="EventFeed"/>'s.
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
        var parsed = EventFeed.ParseQuery(query["tenantId"].ToString(), query["after"].ToString(), query["limit"].ToString());
        if (!parsed.TryGetValue(out var feedQuery, out var problem))
        {
            if (TenantId.TryParse(query["tenantId"].ToString(), out var tenant)) context.Items[RequestPipeline.TenantItem] = tenant.Value;
            return ProblemResults.Write(problem);
        }
        if (feedQuery.TenantId is not null) context.Items[RequestPipeline.TenantItem] = feedQuery.TenantId;
        var page = await context.RequestServices.GetRequiredService<EventFeed>().ReadAsync(feedQuery, context.RequestAborted);
        return Results.Text(EventFeed.ToJson(page).ToJsonString(), "application/json", Encoding.UTF8);
    }
}
