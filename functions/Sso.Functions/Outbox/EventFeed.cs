using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Outbox;

/// <summary>What a page of the event feed asks for; <see cref="EventFeed.ParseQuery"/> checks it.</summary>
public sealed record EventFeedQuery(string? TenantId, FeedCursor Cursor, string? After, int Limit);

/// <summary>A page of the feed and the cursor to read on from (the caller's own when nothing is new).</summary>
public sealed record EventPage(IReadOnlyList<EventRecord> Events, string? NextCursor);

/// <summary>
/// Reading the event feed, for the management API and the operator console alike: the query's
/// checks (with the API's messages) and the page. No HTTP.
/// </summary>
public sealed class EventFeed(EventFeedStore store)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>Checks the raw parameters; empty or null means "not given".</summary>
    public static Result<EventFeedQuery, Problem> ParseQuery(string? tenantId, string? after, string? limit)
    {
        var pageSize = DefaultLimit;
        if (limit is { Length: > 0 } && (!int.TryParse(limit, out pageSize) || pageSize < 1 || pageSize > MaxLimit))
            return Problem.Validation($"'limit' must be an integer from 1 to {MaxLimit}.");
        string? tenant = null;
        if (tenantId is { Length: > 0 })
        {
            if (!TenantId.TryParse(tenantId, out var parsed)) return Problem.Validation("'tenantId' is not a tenant id.");
            tenant = parsed.Value;
        }
        var cursor = FeedCursor.Start(tenant);
        var from = after is { Length: > 0 } ? after : null;
        if (from is not null)
        {
            var parsed = FeedCursor.Parse(from, tenant);
            if (!parsed.TryGetValue(out cursor, out var error)) return Problem.Validation(error);
        }
        return new EventFeedQuery(tenant, cursor, from, pageSize);
    }

    public async Task<EventPage> ReadAsync(EventFeedQuery query, CancellationToken cancellationToken)
    {
        var (events, next) = await store.ReadAsync(query.TenantId, query.Cursor, query.Limit, cancellationToken);
        // With no new events the caller keeps its cursor.
        return new EventPage(events, events.Count > 0 ? next.Encode(query.TenantId) : query.After);
    }

    public static JsonObject ToJson(EventPage page) => new()
    {
        ["data"] = new JsonArray(page.Events.Select(e => (JsonNode)e.ToJson()).ToArray()),
        ["nextCursor"] = page.NextCursor,
    };
}
