using System.Globalization;
using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Protocols;
using Sso.Protocols.Scim;

namespace Sso.Functions.Scim;

public static class ScimRequests
{
    /// <summary>Large enough for a PATCH adding a few thousand members; a stored resource is capped separately.</summary>
    public const int MaxBodyBytes = 512 * 1024;

    /// <summary>A stored resource must fit a Table string property (64 KiB of UTF-16) with room to spare.</summary>
    public const int MaxResourceChars = 30_000;

    /// <summary>How often a write is retried when another writer changed the row first (IdPs send no If-Match).</summary>
    public const int MaxAttempts = 100;

    public static async Task<Result<byte[], ScimError>> ReadBodyAsync(HttpContext context)
    {
        if (context.Request.ContentType is { } contentType && !JsonResults.IsJson(contentType))
            return new ScimError(415, null, "Send the body as application/scim+json or application/json.");
        var body = await context.Request.ReadBodyBytesAsync(MaxBodyBytes, context.RequestAborted);
        return body is null ? ScimError.PayloadTooLarge(MaxBodyBytes) : body;
    }

    /// <summary>A random, growing pause before retrying a write that lost an ETag race.</summary>
    public static Task BackoffAsync(int attempt, CancellationToken cancellationToken) => DirectoryChanges.Retry.BackOffAsync(attempt, cancellationToken);

    /// <summary>An IdP's request retries a change up to <see cref="MaxAttempts"/> times, backing off in between.</summary>
    public static readonly DirectoryChanges.Retry Retry = new(MaxAttempts, BackOff: true);

    /// <summary>RFC 7644 §3.14: a client that sends If-Match with another version gets 412.</summary>
    public static bool FailsIfMatch(HttpContext context, string currentETag) =>
        context.Request.Headers.IfMatch.ToString() is { Length: > 0 } ifMatch && !ScimETag.Matches(ifMatch, currentETag);

    public static bool MatchesIfNoneMatch(HttpContext context, string currentETag) =>
        ScimETag.Matches(context.Request.Headers.IfNoneMatch.ToString(), currentETag);

    public static JsonObject Meta(string resourceType, DateTimeOffset created, DateTimeOffset lastModified, string location, long version) =>
        Meta(resourceType, created, lastModified, location, ScimETag.Format(version));

    public static JsonObject Meta(string resourceType, DateTimeOffset created, DateTimeOffset lastModified, string location, string etag) => new()
    {
        ["resourceType"] = resourceType,
        ["created"] = created.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["lastModified"] = lastModified.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["location"] = location,
        ["version"] = etag,
    };

    public static ScimError? CheckSize(JsonObject resource) =>
        resource.ToJsonString().Length > MaxResourceChars
            ? new ScimError(413, null, $"The resource is larger than the {MaxResourceChars} characters this server stores.")
            : null;

    public static ScimError? CheckLength(JsonObject resource, string attribute, int max) =>
        resource[attribute] is JsonValue value && value.GetValue<string>().Length > max
            ? ScimError.InvalidValue($"'{attribute}' must be at most {max} characters.")
            : null;
}
