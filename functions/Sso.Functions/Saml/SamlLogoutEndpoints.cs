using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Protocols.Saml;

namespace Sso.Functions.Saml;

/// <summary>
/// Each SAML connection's Single Logout Service URL, HTTP-Redirect (GET) and HTTP-POST: reads the
/// IdP's message, hands it to <see cref="SamlIdpLogout"/> and writes its answer.
/// </summary>
public static class SamlLogoutEndpoints
{
    public const int MaxFormBytes = SamlResponseReader.MaxDecodedBytes * 4 / 3 + 8 * 1024;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("SamlSlo", "/saml/slo/{connectionId}", ["GET", "POST"], SloAsync),
    ];

    private static async Task<IResult> SloAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var cancellationToken = context.RequestAborted;
        if (!ConnectionId.TryParse(context.RouteString("connectionId"), out var connectionId)
            || await services.GetRequiredService<ConnectionStore>().FindByIdAsync(connectionId, cancellationToken) is not
                { Type: ConnectionTypes.Saml } connection)
            return OAuthResults.Page(404, "Unknown SAML connection", "There is no SAML connection with this id. Check the SLO URL configured at the IdP.");
        context.Items[RequestPipeline.TenantItem] = connection.TenantId.Value;

        SamlLogoutMessage message;
        if (HttpMethods.IsGet(context.Request.Method))
        {
            var query = context.Request.Query;
            message = new SamlLogoutMessage.Redirect(context.Request.QueryString.Value?.TrimStart('?') ?? "",
                query.ContainsKey(SamlRedirectBinding.RequestParameter), query.ContainsKey(SamlRedirectBinding.ResponseParameter));
        }
        else
        {
            if (!context.Request.HasFormContentType || context.Request.ContentLength > MaxFormBytes)
                return Write(SamlLogoutOutcome.Refused("The IdP must POST the SAMLRequest or SAMLResponse as a form (HTTP-POST binding)."));
            IFormCollection form;
            try
            {
                form = await context.Request.ReadFormAsync(cancellationToken);
            }
            catch (InvalidDataException)
            {
                return Write(SamlLogoutOutcome.Refused("The logout form is too large or malformed."));
            }
            if (form["SAMLRequest"].Count > 1 || form["SAMLResponse"].Count > 1 || form["RelayState"].Count > 1)
                return Write(SamlLogoutOutcome.Refused("The logout form repeats a field."));
            message = new SamlLogoutMessage.Post(form["SAMLRequest"].ToString(), form["SAMLResponse"].ToString(),
                form["RelayState"].ToString() is { Length: > 0 } relay ? relay : null);
        }
        return Write(await services.GetRequiredService<SamlIdpLogout>().ReceiveAsync(connection, message, cancellationToken));
    }

    private static IResult Write(SamlLogoutOutcome outcome) => outcome switch
    {
        SamlLogoutOutcome.Page page => OAuthResults.Page(page.Status, page.Title, page.Message),
        SamlLogoutOutcome.ToIdp toIdp => OAuthResults.ToIdp(toIdp.Request),
        SamlLogoutOutcome.Finished finished => LogoutEndpoints.Finish(finished.PostLogoutRedirectUri, finished.State),
        _ => throw new InvalidOperationException("Unknown SAML logout outcome."),
    };
}
