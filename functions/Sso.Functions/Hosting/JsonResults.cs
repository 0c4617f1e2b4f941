using System.Text.RegularExpressions;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Sso.Functions.Hosting;

public static partial class JsonResults
{
    public static IResult Ok<T>(T value, JsonTypeInfo<T> typeInfo) => Results.Json(value, typeInfo);

    public static IResult Created<T>(string location, T value, JsonTypeInfo<T> typeInfo) =>
        new CreatedResult(location, Results.Json(value, typeInfo, statusCode: StatusCodes.Status201Created));

    private sealed class CreatedResult(string location, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.Location = location;
            return inner.ExecuteAsync(context);
        }
    }

    /// <summary>
    /// Reads a JSON request body strictly into <typeparamref name="T"/>: wrong media type, a body
    /// that is too large, malformed JSON, a wrong type or an unknown field give a problem, never an exception.
    /// </summary>
    public static async Task<Result<T, Problem>> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, int limit = 64 * 1024)
        where T : class
    {
        if (request.ContentType is { } contentType && !IsJson(contentType))
            return Problem.UnsupportedMediaType();
        var bytes = await request.ReadBodyBytesAsync(limit, request.HttpContext.RequestAborted);
        if (bytes is null) return Problem.PayloadTooLarge(limit);
        if (bytes.Length == 0) return Problem.InvalidJson("The request body is empty.");
        try
        {
            var value = JsonSerializer.Deserialize(bytes, typeInfo);
            return value is null ? Problem.InvalidJson("The request body is null.") : value;
        }
        catch (JsonException e)
        {
            return DescribeJsonException(e);
        }
    }

    public static bool IsJson(string contentType)
    {
        var mediaType = contentType.Split(';')[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    public static Problem DescribeJsonException(JsonException e)
    {
        if (UnmappedProperty().Match(e.Message) is { Success: true } unmapped)
            return Problem.UnknownField(unmapped.Groups[1].Value);
        var where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
        return Problem.InvalidJson(
            $"The body is not valid JSON for this request{where} (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}).");
    }

    [GeneratedRegex("The JSON property '(.{1,200}?)' could not be mapped")]
    private static partial Regex UnmappedProperty();
}
