using System.Text;
using Sso.Protocols.Scim;

namespace Sso.Functions.Hosting;

/// <summary>
/// The SCIM error writer (RFC 7644 §3.12), for the SCIM endpoints and for
/// <see cref="RequestPipeline"/> failures under <c>/scim</c>.
/// </summary>
public static class ScimErrorResults
{
    public const string MediaType = "application/scim+json";

    /// <summary>The scimType of an error answer, for the audit trail's failure reason.</summary>
    public const string ScimTypeItem = "ScimType";

    public static IResult Write(ScimError error) => new ScimErrorResult(error);

    private sealed class ScimErrorResult(ScimError error) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            if (error.ScimType is not null) context.Items[ScimTypeItem] = error.ScimType;
            context.Response.StatusCode = error.Status;
            if (error.Status == 401) context.Response.Headers.WWWAuthenticate = "Bearer realm=\"scim\"";
            context.Response.ContentType = MediaType;
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(error.ToJson().ToJsonString()), context.RequestAborted);
        }
    }
}
