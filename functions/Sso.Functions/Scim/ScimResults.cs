using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Protocols.Scim;

namespace Sso.Functions.Scim;

/// <summary>SCIM responses: <c>application/scim+json</c>, errors in the RFC 7644 §3.12 schema.</summary>
public static class ScimResults
{
    public const string MediaType = "application/scim+json";

    /// <summary>The scimType of an error answer, for the audit trail's failure reason.</summary>
    public const string ScimTypeItem = ScimErrorResults.ScimTypeItem;

    public static IResult Json(JsonNode body, int status = 200, string? etag = null, string? location = null) =>
        new ScimResult(body, status, etag, location);

    public static IResult Error(ScimError error) => ScimErrorResults.Write(error);

    public static IResult NotModified(string etag) => new ScimResult(null, 304, etag, null);

    public static IResult NoContent(string? etag = null) => new ScimResult(null, 204, etag, null);

    private sealed class ScimResult(JsonNode? body, int status, string? etag, string? location) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            if (etag is not null) context.Response.Headers.ETag = etag;
            if (location is not null) context.Response.Headers.Location = location;
            if (status == 401) context.Response.Headers.WWWAuthenticate = "Bearer realm=\"scim\"";
            if (body is null) return;
            context.Response.ContentType = MediaType;
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body.ToJsonString()), context.RequestAborted);
        }
    }
}
