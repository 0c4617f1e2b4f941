using System.Net;

namespace Sso.Functions.Hosting;

/// <summary>
/// The HTML page writer: the page a browser gets when no redirect can be trusted (sign-in
/// routes, <see cref="RequestPipeline"/> failures) and the other plain pages of the sign-in flow.
/// </summary>
public static class HtmlPages
{
    public const string DefaultContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

    /// <summary>An error page with a title and one paragraph of text.</summary>
    public static IResult Error(int status, string title, string message) =>
        new HtmlResult(status, Document(title, $"<p>{WebUtility.HtmlEncode(message)}</p>"), DefaultContentSecurityPolicy);

    public static IResult Html(int status, string html, string contentSecurityPolicy = DefaultContentSecurityPolicy) =>
        new HtmlResult(status, html, contentSecurityPolicy);

    public static string Document(string title, string bodyHtml) =>
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        + $"<title>{WebUtility.HtmlEncode(title)}</title>"
        + "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}"
        + "input,button{font-size:1rem;padding:.5rem}input{width:100%;box-sizing:border-box;margin:.5rem 0}</style>"
        + $"</head><body><h1>{WebUtility.HtmlEncode(title)}</h1>{bodyHtml}</body></html>";

    private sealed class HtmlResult(int status, string html, string contentSecurityPolicy) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.ContentSecurityPolicy = contentSecurityPolicy;
            context.Response.Headers["X-Frame-Options"] = "DENY";
            await context.Response.WriteAsync(html, context.RequestAborted);
        }
    }
}

/// <summary>
/// An HTML error page of its own for the routes under <see cref="Prefix"/> (the setup portal),
/// used by <see cref="RequestPipeline"/> in place of <see cref="HtmlPages.Error"/>.
/// </summary>
public sealed record RouteErrorPage(PathString Prefix, Func<int, string, string, IResult> Page);
