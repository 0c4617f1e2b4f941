using System.Diagnostics;
using System.Text.Json;
using Azure;

namespace Sso.Functions.Hosting;

/// <summary>
/// The one place that logs each request and that turns an exception (a bug or broken
/// infrastructure, never bad input) into a 503 or 500 in the route's own error format.
/// </summary>
public sealed partial class RequestPipeline(RequestDelegate next, ILogger<RequestPipeline> logger)
{
    public const string TenantItem = "TenantId";

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; nothing to answer.
        }
        catch (BadHttpRequestException e)
        {
            await WriteFailureAsync(context, e.StatusCode, e);
        }
        catch (Exception e)
        {
            await WriteFailureAsync(context, IsInfrastructure(e) ? 503 : 500, e);
        }
        finally
        {
            var function = FunctionName(context);
            var tenant = context.Items[TenantItem] as string ?? context.Request.RouteValues["tenantId"] as string;
            LogRequest(logger, function, context.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds, tenant ?? "-");
        }
    }

    // The function name, never the path: paths and queries can carry setup tokens and codes.
    private static string FunctionName(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "(no function)";

    private static bool IsInfrastructure(Exception e) => e switch
    {
        RequestFailedException or HttpRequestException or TimeoutException or IOException
            or Azure.Identity.AuthenticationFailedException or TaskCanceledException
            or Azure.Messaging.ServiceBus.ServiceBusException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsInfrastructure),
        _ => e.InnerException is { } inner && IsInfrastructure(inner),
    };

    private async Task WriteFailureAsync(HttpContext context, int status, Exception e)
    {
        LogFailure(logger, FunctionName(context), status, e);
        if (context.Response.HasStarted) return;
        context.Response.Clear();
        var path = context.Request.Path;
        if (path.StartsWithSegments("/scim"))
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/scim+json";
            var detail = status switch
            {
                503 => "A backing service is unavailable; retry later.",
                413 => "The request body is too large.",
                400 => "The request could not be read.",
                _ => "The service failed to handle the request; retry later.",
            };
            await JsonSerializer.SerializeAsync(context.Response.Body,
                new ScimErrorBody([ScimErrorBody.Schema], detail, status.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                SsoJsonContext.Default.ScimErrorBody);
        }
        else if (path.StartsWithSegments("/setup"))
        {
            // A browser page: an HTML answer that does not echo the path (it holds the setup token).
            await Setup.SetupHtml.Unusable(status, status == 503 ? "Temporarily unavailable" : "Something went wrong",
                status == 503 ? "A backing service is unavailable; reload the page in a minute." : "The setup page failed; reload it to try again.")
                .ExecuteAsync(context);
        }
        else if (path.StartsWithSegments("/oauth/token") || path.StartsWithSegments("/oauth/userinfo"))
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.Headers.CacheControl = "no-store";
            var body = new OAuthErrorBody(status == 503 ? "temporarily_unavailable" : "server_error",
                status == 503 ? "A backing service is unavailable; retry later." : "The service failed to handle the request.");
            await JsonSerializer.SerializeAsync(context.Response.Body, body, SsoJsonContext.Default.OAuthErrorBody);
        }
        else
        {
            var problem = status switch
            {
                503 => Problem.Unavailable(),
                413 => Problem.PayloadTooLarge(0) with { Detail = "The request body is too large." },
                400 => Problem.InvalidJson("The request could not be read."),
                _ => Problem.Internal(),
            };
            await ProblemResults.WriteAsync(context, problem with { Status = status });
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{FunctionName} answered {Status} in {DurationMs:0.0} ms (tenant {TenantId})")]
    private static partial void LogRequest(ILogger logger, string functionName, int status, double durationMs, string tenantId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{FunctionName} failed with {Status}")]
    private static partial void LogFailure(ILogger logger, string functionName, int status, Exception exception);
}

/// <summary>The SCIM error schema (RFC 7644 §3.12); status is a string there.</summary>
public sealed record ScimErrorBody(string[] Schemas, string Detail, string Status, string? ScimType = null)
{
    public const string Schema = "urn:ietf:params:scim:api:messages:2.0:Error";
}

/// <summary>An OAuth 2.0 error response body (RFC 6749 §5.2).</summary>
public sealed record OAuthErrorBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error,
    [property: System.Text.Json.Serialization.JsonPropertyName("error_description")] string? ErrorDescription);
