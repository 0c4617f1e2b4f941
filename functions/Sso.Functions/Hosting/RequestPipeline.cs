using System.Diagnostics;
using Azure;
using Sso.Protocols.Scim;

namespace Sso.Functions.Hosting;

/// <summary>
/// The one place that logs each request and that turns an exception (a bug or broken
/// infrastructure, never bad input) into a 503 or 500 in the route's own error format.
/// </summary>
public sealed partial class RequestPipeline(
    RequestDelegate next, RequestDeadlineOptions deadlineOptions, IEnumerable<RouteErrorPage> routeErrorPages,
    ILogger<RequestPipeline> logger)
{
    public const string TenantItem = "TenantId";

    /// <summary>Set when the request passed its deadline: a backing service hangs.</summary>
    public const string DeadlinePassedItem = "DeadlinePassed";

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var callerAborted = context.RequestAborted;
        // Every HTTP function works under a deadline: handlers pass RequestAborted to storage, so a
        // hung backend is cancelled and answered 503 here instead of holding the caller.
        using var deadline = context.GetEndpoint()?.Metadata.GetMetadata<FunctionEndpoint>() is null
            ? null
            : CancellationTokenSource.CreateLinkedTokenSource(callerAborted);
        if (deadline is not null)
        {
            deadline.CancelAfter(deadlineOptions.Deadline);
            context.RequestAborted = deadline.Token;
        }
        try
        {
            try
            {
                await next(context);
            }
            finally
            {
                // The error writers below write under the caller's token, not the spent deadline.
                context.RequestAborted = callerAborted;
            }
        }
        catch (OperationCanceledException) when (callerAborted.IsCancellationRequested)
        {
            // The caller went away; nothing to answer.
        }
        catch (Exception e) when (deadline is { IsCancellationRequested: true })
        {
            // Whatever the deadline's cancellation surfaced as (OperationCanceled, an SDK failure, ...).
            context.Items[DeadlinePassedItem] = true;
            LogDeadlinePassed(logger, FunctionName(context), deadlineOptions.Deadline.TotalSeconds, e.GetType().Name);
            await WriteFailureAsync(context, 503, exception: null);
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
        // The Service Bus SDK's answer when the app's identity lost its role on the namespace: a
        // deployment fault the caller cannot fix, and retrying after the operator does works.
        UnauthorizedAccessException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsInfrastructure),
        _ => e.InnerException is { } inner && IsInfrastructure(inner),
    };

    private async Task WriteFailureAsync(HttpContext context, int status, Exception? exception)
    {
        if (exception is not null) LogFailure(logger, FunctionName(context), status, exception);
        if (context.Response.HasStarted) return;
        context.Response.Clear();
        var path = context.Request.Path;
        if (path.StartsWithSegments("/scim"))
        {
            var detail = status switch
            {
                503 => "A backing service is unavailable; retry later.",
                413 => "The request body is too large.",
                400 => "The request could not be read.",
                _ => "The service failed to handle the request; retry later.",
            };
            await ScimErrorResults.Write(new ScimError(status, null, detail)).ExecuteAsync(context);
        }
        else if (routeErrorPages.FirstOrDefault(p => path.StartsWithSegments(p.Prefix)) is { } routePage)
        {
            // A browser page of its own (the setup portal): it does not echo the path, which holds the setup token.
            await routePage.Page(status, status == 503 ? "Temporarily unavailable" : "Something went wrong",
                status == 503 ? "A backing service is unavailable; reload the page in a minute." : "The setup page failed; reload it to try again.")
                .ExecuteAsync(context);
        }
        else if (IsBrowserRoute(path))
        {
            // A browser on its way through a sign-in: no redirect URI is trustworthy without the
            // storage that failed, so the answer is the page, as for an unvalidated redirect.
            await HtmlPages.Error(status, status == 503 ? "Temporarily unavailable" : "Something went wrong",
                    status == 503 ? "The sign-in service cannot reach a service it depends on right now; try again in a minute." : "The sign-in failed; try again.")
                .ExecuteAsync(context);
        }
        else if (path.StartsWithSegments("/oauth/token") || path.StartsWithSegments("/oauth/userinfo"))
        {
            await OAuthErrorResults.Json(status == 503 ? "temporarily_unavailable" : "server_error",
                status == 503 ? "A backing service is unavailable; retry later." : "The service failed to handle the request.",
                status).ExecuteAsync(context);
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
        // The answer is decided: send it now, so that nothing after the pipeline (the audit
        // step, which needs the same broken storage) holds it back.
        if (status == 503) await context.Response.CompleteAsync();
    }

    private static bool IsBrowserRoute(PathString path) =>
        path.StartsWithSegments("/oauth/authorize") || path.StartsWithSegments("/oauth/logout")
        || path.StartsWithSegments("/saml/acs") || path.StartsWithSegments("/saml/slo") || path.StartsWithSegments("/oidc/callback")
        || path.StartsWithSegments("/google/callback");

    [LoggerMessage(Level = LogLevel.Information, Message = "{FunctionName} answered {Status} in {DurationMs:0.0} ms (tenant {TenantId})")]
    private static partial void LogRequest(ILogger logger, string functionName, int status, double durationMs, string tenantId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{FunctionName} passed its {DeadlineSeconds} s deadline ({FailureKind}); answering 503")]
    private static partial void LogDeadlinePassed(ILogger logger, string functionName, double deadlineSeconds, string failureKind);

    [LoggerMessage(Level = LogLevel.Error, Message = "{FunctionName} failed with {Status}")]
    private static partial void LogFailure(ILogger logger, string functionName, int status, Exception exception);
}
