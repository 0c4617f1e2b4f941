namespace Sso.Functions.Hosting;

public static class HttpRequestExtensions
{
    /// <summary>
    /// Reads the whole body, or returns null when it is larger than <paramref name="limit"/>
    /// (the caller answers 413 in its protocol's format).
    /// </summary>
    public static async Task<byte[]?> ReadBodyBytesAsync(this HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    public static string RouteString(this HttpContext context, string name) =>
        context.Request.RouteValues[name] as string ?? "";
}
