using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// How a sign-in's completion (the SAML ACS, the OIDC callback) answers the browser: back to the
/// client with a code, back to the client with an OAuth error, or, when no redirect URI can be
/// trusted, an HTML page. <see cref="TenantId"/> is the tenant the request turned out to concern
/// (for the request log), null while none is known.
/// </summary>
public abstract record SignInCompletion(TenantId? TenantId)
{
    public sealed record CodeIssued(TenantId? TenantId, string RedirectUri, string ResponseMode, string Code, string? State,
        string Issuer) : SignInCompletion(TenantId);

    public sealed record Refused(TenantId? TenantId, string RedirectUri, string ResponseMode, string Error, string ErrorDescription,
        string? State, string Issuer) : SignInCompletion(TenantId);

    public sealed record Page(TenantId? TenantId, int Status, string Title, string Message) : SignInCompletion(TenantId);

    /// <summary>The one way a completion becomes HTTP: the tenant for the request log, and the answer in OAuth's own writers.</summary>
    public static IResult ToResult(HttpContext context, SignInCompletion completion)
    {
        if (completion.TenantId is { } tenantId) context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        return completion switch
        {
            CodeIssued issued => OAuthResults.Redirect(issued.RedirectUri, issued.ResponseMode,
            [
                new("code", issued.Code),
                new("state", issued.State),
                new("iss", issued.Issuer),
            ]),
            Refused refused => OAuthResults.ErrorRedirect(refused.RedirectUri, refused.ResponseMode, refused.Error,
                refused.ErrorDescription, refused.State, refused.Issuer),
            Page page => OAuthResults.Page(page.Status, page.Title, page.Message),
            _ => throw new InvalidOperationException("Unknown sign-in completion."),
        };
    }
}
