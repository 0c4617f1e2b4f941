using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Audit;

/// <summary>
/// Records, in one place, every management change and every SCIM request, after the request
/// pipeline has decided the answer (it runs outside <see cref="RequestPipeline"/>, so it sees the
/// final status, 500s included).
///
/// A management change is any POST, PUT, PATCH or DELETE of the management API that an admin key
/// authenticated and that found its target (a 401 has no actor and a 404 no target). The action is
/// the function's name read as "noun.verb" (CreateTenant → tenant.create); the target is the
/// created resource (its Location) or the last id of the route; the changed fields are the member
/// names of the JSON body (one level deep: settings.jitProvisioning). Values are never read.
///
/// A SCIM request is recorded under the directory's tenant when the directory exists, whether or
/// not its token was accepted; query values are withheld except paging (see <see cref="DescribeQuery"/>).
/// </summary>
public sealed partial class RequestAudit(RequestDelegate next, ILogger<RequestAudit> logger)
{
    private const int MaxFieldNames = 50;
    private const int MaxBodyBytesRead = 2 * 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var function = context.GetEndpoint()?.Metadata.GetMetadata<FunctionEndpoint>();
        if (function is null)
        {
            await next(context);
            return;
        }
        var isScim = function.Route.StartsWith("/scim/v2/", StringComparison.Ordinal);
        var isChange = !isScim && function.Route.StartsWith("/api/v1/", StringComparison.Ordinal)
                       && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
        if (!isScim && !isChange)
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        // The handler reads the body; buffering lets the field names be read again afterwards.
        if (isChange && context.Request.ContentLength is null or <= MaxBodyBytesRead) context.Request.EnableBuffering();
        try
        {
            await next(context);
        }
        finally
        {
            try
            {
                // The request was cut off by a hung backend, and the audit table is on that storage:
                // the pipeline's log line is the record, the answer is not held for a write that hangs too.
                var storageHung = context.Items.ContainsKey(RequestPipeline.DeadlinePassedItem);
                if (isScim && !storageHung) await RecordScimAsync(context, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                else if (!storageHung) await RecordChangeAsync(context, function);
            }
            catch (Exception e)
            {
                // The answer is decided; a broken audit step must not turn it into a failure.
                LogAuditFailed(logger, function.FunctionName, e.GetType().Name);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Auditing {FunctionName} failed with {FailureKind}")]
    private static partial void LogAuditFailed(ILogger logger, string functionName, string failureKind);

    private static async Task RecordChangeAsync(HttpContext context, FunctionEndpoint function)
    {
        if (context.Items[AdminApi.KeyIdItem] is not string keyId) return;
        var status = context.Response.StatusCode;
        if (status is 401 or 404) return;
        var audit = context.RequestServices.GetRequiredService<AuditLog>();
        var tenantId = context.Items[RequestPipeline.TenantItem] as string;
        var fields = status < 300 ? await ReadFieldNamesAsync(context.Request) : [];
        await audit.RecordChangeAsync(tenantId, AuditActor.AdminKey(keyId), ActionOf(function.FunctionName), TargetOf(context, function),
            fields, status < 400 ? "success" : "failure", status < 400 ? null : context.Items[ProblemResults.CodeItem] as string ?? status.ToString(),
            status);
    }

    private static async Task RecordScimAsync(HttpContext context, double durationMs)
    {
        if (!DirectoryId.TryParse(context.RouteString("directoryId"), out var directoryId)) return;
        TenantId tenantId;
        if (context.Items[RequestPipeline.TenantItem] is string known && TenantId.TryParse(known, out var parsed))
            tenantId = parsed;
        else
        {
            // Refused before the directory was known (no or a wrong token): its owner still sees the attempt.
            try
            {
                if (await context.RequestServices.GetRequiredService<DirectoryRecordStore>().FindDirectoryAsync(directoryId, CancellationToken.None)
                    is not { } directory) return;
                tenantId = directory.TenantId;
            }
            catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or IOException or TimeoutException)
            {
                return;
            }
        }
        var path = context.Request.Path.Value ?? "";
        if (path.Length > 300) path = path[..300] + "…";
        var query = DescribeQuery(context.Request.Query);
        var status = context.Response.StatusCode;
        await context.RequestServices.GetRequiredService<AuditLog>().RecordScimRequestAsync(tenantId, directoryId,
            context.Items[AuditLog.ScimTokenIdItem] as string, context.Request.Method, query.Length > 0 ? path + "?" + query : path,
            status, durationMs, status >= 400 ? context.Items[Scim.ScimResults.ScimTypeItem] as string ?? status.ToString() : null);
    }

    /// <summary>
    /// The query without values that could name a person: paging and attribute lists are kept,
    /// a filter keeps its attribute paths and operators but its string literals become "…",
    /// any other parameter keeps only its name.
    /// </summary>
    public static string DescribeQuery(IQueryCollection query)
    {
        var parts = new List<string>();
        foreach (var (name, values) in query.Take(10))
        {
            var value = values.ToString();
            var shown = name.ToLowerInvariant() switch
            {
                "filter" => StringLiteral().Replace(value, "\"…\""),
                "startindex" or "count" or "sortorder" or "sortby" or "attributes" or "excludedattributes" => value,
                _ => "…",
            };
            parts.Add(Cap(name, 40) + "=" + Cap(shown, 200));
        }
        return string.Join("&", parts);
    }

    private static string Cap(string value, int max) => value.Length <= max ? value : value[..max] + "…";

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"?")]
    private static partial Regex StringLiteral();

    /// <summary>CreateTenant → tenant.create, RevokeDirectoryToken → directory_token.revoke.</summary>
    public static string ActionOf(string functionName)
    {
        var words = PascalWord().Matches(functionName).Select(m => m.Value.ToLowerInvariant()).ToList();
        return words.Count < 2 ? functionName : string.Join("_", words.Skip(1)) + "." + words[0];
    }

    [GeneratedRegex("[A-Z][a-z0-9]*")]
    private static partial Regex PascalWord();

    private static AuditTarget? TargetOf(HttpContext context, FunctionEndpoint function)
    {
        // A create answers the new resource's URL: /api/v1/tenants/{t}/connections/con_… → connection con_….
        if (context.Response.StatusCode == 201 && context.Response.Headers.Location.ToString() is { Length: > 0 } location)
        {
            var segments = location.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (segments.Length >= 2) return new AuditTarget(Singular(segments[^2]), segments[^1]);
        }
        var parameters = RouteParameter().Matches(function.Route).Select(m => m.Groups[1].Value).ToList();
        if (parameters.Count == 0) return null;
        var last = parameters[^1];
        var kind = last.EndsWith("Id", StringComparison.Ordinal) ? last[..^2] : last;
        return new AuditTarget(string.Join("_", PascalWord().Matches(char.ToUpperInvariant(kind[0]) + kind[1..]).Select(m => m.Value.ToLowerInvariant())),
            context.RouteString(last));
    }

    [GeneratedRegex(@"\{\*?(\w+)\}")]
    private static partial Regex RouteParameter();

    private static string Singular(string collection) =>
        collection.EndsWith("ies", StringComparison.Ordinal) ? collection[..^3] + "y"
        : collection.EndsWith('s') ? collection[..^1]
        : collection;

    /// <summary>The JSON body's member names, one level deep; values are skipped unread.</summary>
    private static async Task<IReadOnlyList<string>> ReadFieldNamesAsync(HttpRequest request)
    {
        if (!request.Body.CanSeek || request.Body.Length is 0 or > MaxBodyBytesRead) return [];
        if (request.ContentType is { } contentType && !JsonResults.IsJson(contentType)) return [];
        request.Body.Position = 0;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return FieldNames(buffer.ToArray());
    }

    public static IReadOnlyList<string> FieldNames(byte[] json)
    {
        var names = new List<string>();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            var path = new Stack<string?>();
            string? pendingName = null;
            while (reader.Read() && names.Count < MaxFieldNames)
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingName = reader.GetString();
                        if (path.Count is 1 or 2 && path.Peek() is { } parent && IsFieldName(pendingName))
                        {
                            var name = parent.Length == 0 ? pendingName! : parent + "." + pendingName;
                            if (!names.Contains(name)) names.Add(name);
                            // A parent whose members are listed is not listed itself.
                            if (parent.Length > 0) names.Remove(parent);
                        }
                        break;
                    case JsonTokenType.StartObject:
                        path.Push(path.Count == 0 ? "" : path.Count == 1 && IsFieldName(pendingName) ? pendingName : null);
                        pendingName = null;
                        break;
                    case JsonTokenType.EndObject:
                        path.Pop();
                        break;
                    case JsonTokenType.StartArray:
                        reader.Skip();
                        pendingName = null;
                        break;
                    default:
                        pendingName = null;
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // The handler refused the body already; the names read so far are all there is.
        }
        return names;
    }

    private static bool IsFieldName(string? name) =>
        name is { Length: > 0 and <= 64 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '$');
}
