using Azure.Core;
using Azure.Core.Pipeline;

namespace Sso.Functions.Storage;

/// <summary>
/// Tables and queues are created once per process. When storage comes back without one (an
/// in-memory Azurite restarted, a table deleted by hand), every call to it would fail until a
/// restart; this policy sees the service's <c>TableNotFound</c> / <c>QueueNotFound</c>, creates
/// the table or queue, and sends the request once more. One place, for every store.
/// </summary>
public sealed partial class RecreateMissingPolicy(
    string errorCode,
    Func<HttpMessage, string?> nameOf,
    Func<string, CancellationToken, Task> createAsync,
    Action<string, CancellationToken> create) : HttpPipelinePolicy
{
    private const string ErrorCodeHeader = "x-ms-error-code";

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        if (MissingName(message) is not { } name) return;
        await createAsync(name, message.CancellationToken);
        message.Response.ContentStream?.Dispose();
        await ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ProcessNext(message, pipeline);
        if (MissingName(message) is not { } name) return;
        create(name, message.CancellationToken);
        message.Response.ContentStream?.Dispose();
        ProcessNext(message, pipeline);
    }

    private string? MissingName(HttpMessage message)
    {
        if (!message.HasResponse) return null;
        var response = message.Response;
        var missing = response.Status == 404
            && response.Headers.TryGetValue(ErrorCodeHeader, out var code) && code == errorCode;
        // A Table batch answers 202 and reports each failed operation inside its multipart body.
        missing |= response.Status == 202 && IsBatch(message) && BodyMentions(response, errorCode);
        return missing ? nameOf(message) : null;
    }

    public static bool IsBatch(HttpMessage message) =>
        message.Request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal);

    private static bool BodyMentions(Azure.Response response, string text)
    {
        if (response.ContentStream is not { CanSeek: true } stream) return false;
        var position = stream.Position;
        using var reader = new StreamReader(stream, leaveOpen: true);
        var body = reader.ReadToEnd();
        stream.Position = position;
        return body.Contains(text, StringComparison.Ordinal);
    }

    /// <summary>The table a request addresses: <c>/{account}/{table}(PartitionKey=…)</c>, or inside a batch body.</summary>
    public static string? TableNameOf(HttpMessage message, string prefix)
    {
        if (IsBatch(message))
        {
            if (message.Request.Content is not { } content) return null;
            using var buffer = new MemoryStream();
            content.WriteTo(buffer, CancellationToken.None);
            var text = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
            return TablePath().Matches(text).Select(m => m.Groups[1].Value)
                .FirstOrDefault(name => name.StartsWith(prefix, StringComparison.Ordinal));
        }
        var segment = message.Request.Uri.Path.TrimEnd('/').Split('/')[^1];
        var name = Uri.UnescapeDataString(segment.Split('(')[0]);
        return name.StartsWith(prefix, StringComparison.Ordinal) ? name : null;
    }

    // A table name in a batch's sub-request line: ".../{table} HTTP/1.1", ".../{table}(PartitionKey=...".
    [System.Text.RegularExpressions.GeneratedRegex(@"/([A-Za-z][A-Za-z0-9]{2,62})[(? ]")]
    private static partial System.Text.RegularExpressions.Regex TablePath();

    /// <summary>The queue a request addresses: <c>/{account}/{queue}/messages[/{id}]</c>.</summary>
    public static string? QueueNameOf(HttpMessage message, string prefix)
    {
        var segments = message.Request.Uri.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var messages = Array.IndexOf(segments, "messages");
        var name = messages > 0 ? segments[messages - 1] : segments.LastOrDefault();
        return name is not null && name.StartsWith(prefix + "-", StringComparison.Ordinal) ? name : null;
    }
}
