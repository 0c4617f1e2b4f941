using System.Text.Json;

namespace Sso.Functions.Hosting;

/// <summary>
/// The OAuth JSON error writer (RFC 6749 §5.2, RFC 6750 §3.1), for the token and userinfo
/// endpoints and for <see cref="RequestPipeline"/> failures on those routes.
/// </summary>
public static class OAuthErrorResults
{
    public static IResult Json(string error, string? description, int status, string? challenge = null) =>
        new OAuthErrorResult(error, description, status, challenge);

    private sealed class OAuthErrorResult(string error, string? description, int status, string? challenge) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.Pragma = "no-cache";
            if (challenge is not null) context.Response.Headers.WWWAuthenticate = challenge;
            await JsonSerializer.SerializeAsync(context.Response.Body, new OAuthErrorBody(error, description),
                SsoJsonContext.Default.OAuthErrorBody, context.RequestAborted);
        }
    }
}

/// <summary>An OAuth 2.0 error response body (RFC 6749 §5.2).</summary>
public sealed record OAuthErrorBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error,
    [property: System.Text.Json.Serialization.JsonPropertyName("error_description")] string? ErrorDescription);
