namespace Sso.Functions.Hosting;

/// <summary>
/// What the app's own server-rendered pages (the setup portal, the operator console) share: the
/// security headers of every response, the HTML page and 303 results, and the same-origin check
/// of their form posts.
/// </summary>
public static class BrowserPages
{
    /// <summary>The app's own script and stylesheet only; no inline code, no third-party asset.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'";

    public static void SecurityHeaders(HttpResponse response, bool cacheable = false)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.CacheControl = cacheable ? "public, max-age=300" : "no-store";
        if (!cacheable) response.Headers.Pragma = "no-cache";
    }

    public static IResult Page(int status, string html, Action<HttpResponse>? beforeWrite = null) => new PageResult(status, html, beforeWrite);

    public static IResult SeeOther(string location, Action<HttpResponse>? beforeWrite = null) => new SeeOtherResult(location, beforeWrite);

    public static IResult Asset(byte[] bytes, string contentType) => new AssetResult(bytes, contentType);

    public static bool IsHttps(HttpContext context) =>
        context.Request.IsHttps || context.RequestServices.GetRequiredService<SsoOptions>().PublicBaseUrl.Scheme == Uri.UriSchemeHttps;

    /// <summary>Whether a post came from this service's own pages (or was typed, for Sec-Fetch-Site: none).</summary>
    public static bool IsSameOrigin(HttpRequest request, Uri publicBaseUrl)
    {
        // Under Referrer-Policy: no-referrer browsers send "Origin: null" even for our own forms;
        // then the Fetch Metadata header says whether the post came from this origin.
        if (request.Headers["Sec-Fetch-Site"].ToString() is { Length: > 0 } site && site is not ("same-origin" or "none"))
            return false;
        if (request.Headers.Origin.ToString() is { Length: > 0 } origin && origin != "null")
        {
            var own = publicBaseUrl.GetLeftPart(UriPartial.Authority);
            var requested = request.Scheme + "://" + request.Host.Value;
            if (!string.Equals(origin, own, StringComparison.OrdinalIgnoreCase)
                && !string.Equals(origin, requested, StringComparison.OrdinalIgnoreCase))
                return false;
        }
        return true;
    }

    private sealed class PageResult(int status, string html, Action<HttpResponse>? beforeWrite) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/html; charset=utf-8";
            SecurityHeaders(context.Response);
            beforeWrite?.Invoke(context.Response);
            await context.Response.WriteAsync(html, context.RequestAborted);
        }
    }

    private sealed class SeeOtherResult(string location, Action<HttpResponse>? beforeWrite) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            SecurityHeaders(context.Response);
            beforeWrite?.Invoke(context.Response);
            context.Response.StatusCode = 303;
            context.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }

    private sealed class AssetResult(byte[] bytes, string contentType) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            SecurityHeaders(context.Response, cacheable: true);
            return Results.Bytes(bytes, contentType).ExecuteAsync(context);
        }
    }
}
