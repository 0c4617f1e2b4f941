namespace Sso.Functions.Hosting;

/// <summary>
/// Sends <c>Strict-Transport-Security</c> on every answer when the service's public base URL is
/// https. The Functions host terminates TLS and forwards plain http on loopback to the custom
/// handler, so ASP.NET Core's UseHsts, which looks at the request's scheme, would never fire;
/// the configured public URL is what browsers actually see.
/// </summary>
public sealed class StrictTransportSecurity(RequestDelegate next, SsoOptions options)
{
    // One year, the preload list's minimum; subdomains too, as nothing of ours is served over http.
    public const string HeaderValue = "max-age=31536000; includeSubDomains";

    private readonly bool _enabled = options.PublicBaseUrl.Scheme == Uri.UriSchemeHttps;

    public Task InvokeAsync(HttpContext context)
    {
        if (_enabled)
        {
            // OnStarting: also on the error pages that RequestPipeline writes after a Clear().
            context.Response.OnStarting(static state =>
            {
                var response = (HttpResponse)state;
                response.Headers.StrictTransportSecurity = HeaderValue;
                return Task.CompletedTask;
            }, context.Response);
        }
        return next(context);
    }
}
