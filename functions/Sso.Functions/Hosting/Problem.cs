using System.Text.Json;

namespace Sso.Functions.Hosting;

/// <summary>
/// A management-API failure, written as RFC 9457 problem+json. <see cref="Code"/> is stable:
/// it is the last segment of the problem's <c>type</c> URI and safe to match on.
/// </summary>
public sealed record Problem(int Status, string Code, string Title, string Detail)
{
    public const string TypeBase = "https://serverless-sso.dev/problems/";

    public static Problem InvalidJson(string detail) =>
        new(400, "invalid-json", "The request body is not valid JSON for this endpoint", detail);

    public static Problem Validation(string detail) =>
        new(400, "validation-failed", "The request is not valid", detail);

    public static Problem UnknownField(string field) =>
        new(400, "unknown-field", "The request has a field this endpoint does not know", $"'{field}' is not a field of this request.");

    public static Problem NotFound(string what, string id) =>
        new(404, "not-found", $"The {what} does not exist", $"There is no {what} '{id}'.");

    public static Problem DomainTaken(string domain) =>
        new(409, "domain-already-claimed", "The email domain belongs to another tenant",
            $"'{domain}' is already claimed by another tenant; a domain routes sign-ins to one tenant only.");

    public static Problem Conflict(string detail) =>
        new(409, "conflict", "The resource changed while the request ran", detail);

    public static Problem PayloadTooLarge(int limit) =>
        new(413, "payload-too-large", "The request body is too large", $"The body must be at most {limit} bytes.");

    public static Problem UnsupportedMediaType() =>
        new(415, "unsupported-media-type", "The request body must be JSON", "Send Content-Type: application/json.");

    public static Problem Unauthorized() =>
        new(401, "unauthorized", "A valid admin API key is required",
            "Send 'Authorization: Bearer <admin key>'. The key is missing, malformed or not recognised.");

    public static Problem Unavailable() =>
        new(503, "storage-unavailable", "A backing service is unavailable", "Storage, the secret store or the message queue did not answer; retry later.");

    public static Problem Internal() =>
        new(500, "internal-error", "The service failed to handle the request", "The failure is logged; retry later.");
}

public static class ProblemResults
{
    /// <summary>The problem code of the answer, for the audit trail's failure reason.</summary>
    public const string CodeItem = "ProblemCode";

    public static IResult Write(Problem problem) => new ProblemResult(problem);

    private sealed class ProblemResult(Problem problem) : IResult
    {
        public Task ExecuteAsync(HttpContext context) => WriteAsync(context, problem);
    }

    public static async Task WriteAsync(HttpContext context, Problem problem)
    {
        context.Items[CodeItem] = problem.Code;
        context.Response.StatusCode = problem.Status;
        context.Response.ContentType = "application/problem+json";
        if (problem.Status == 401)
            context.Response.Headers.WWWAuthenticate = "Bearer";
        var body = new ProblemBody(Problem.TypeBase + problem.Code, problem.Title, problem.Status, problem.Detail,
            context.Request.Path.Value);
        await JsonSerializer.SerializeAsync(context.Response.Body, body, SsoJsonContext.Default.ProblemBody, context.RequestAborted);
    }
}

public sealed record ProblemBody(string Type, string Title, int Status, string Detail, string? Instance);
