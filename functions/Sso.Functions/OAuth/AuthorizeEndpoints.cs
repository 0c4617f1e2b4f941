using System.Net;
using System.Text;
using Sso.Functions.Hosting;

namespace Sso.Functions.OAuth;

/// <summary>
/// <c>/oauth/authorize</c>: reads the parameters (query or form), lets <see cref="Authorization"/>
/// decide, and answers with the way to the IdP, an OAuth error, or the page that asks for the work email.
/// </summary>
public static class AuthorizeEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        // OIDC Core §3.1.2.1: the authorization endpoint supports GET and POST.
        new("OAuthAuthorize", "/oauth/authorize", ["GET", "POST"], AuthorizeAsync),
    ];

    private static async Task<IResult> AuthorizeAsync(HttpContext context)
    {
        var parameters = await ReadParametersAsync(context.Request);
        switch (await context.RequestServices.GetRequiredService<Authorization>().AuthorizeAsync(parameters, context.RequestAborted))
        {
            case AuthorizeOutcome.Refused refused:
                return SignInCompletion.ToResult(context, refused.Answer);
            case AuthorizeOutcome.AskForEmail ask:
                return HomeRealmDiscoveryPage(parameters!, ask.Message);
            case AuthorizeOutcome.Started started:
                context.Items[RequestPipeline.TenantItem] = started.TenantId.Value;
                return SignInStarters.ToResult(context, started.Start);
            default:
                throw new InvalidOperationException("Unknown authorize outcome.");
        }
    }

    /// <summary>
    /// Home-realm discovery: a form that sends the same authorization request back with the
    /// typed email as <c>login_hint</c>. Nothing is stored until a connection is found.
    /// </summary>
    private static IResult HomeRealmDiscoveryPage(IReadOnlyList<KeyValuePair<string, string>> parameters, string? message)
    {
        var body = new StringBuilder();
        if (message is not null) body.Append("<p role=\"alert\">").Append(WebUtility.HtmlEncode(message)).Append("</p>");
        body.Append("<form method=\"get\" action=\"/oauth/authorize\">");
        foreach (var (name, value) in parameters)
        {
            if (name == "login_hint") continue;
            body.Append("<input type=\"hidden\" name=\"").Append(WebUtility.HtmlEncode(name))
                .Append("\" value=\"").Append(WebUtility.HtmlEncode(value)).Append("\">");
        }
        body.Append("<label for=\"login_hint\">Work email</label>")
            .Append("<input id=\"login_hint\" name=\"login_hint\" type=\"email\" autocomplete=\"email\" required autofocus>")
            .Append("<button type=\"submit\">Continue</button></form>");
        return OAuthResults.Html(200, OAuthResults.HtmlPage("Sign in with SSO", body.ToString()));
    }

    private static async Task<IReadOnlyList<KeyValuePair<string, string>>?> ReadParametersAsync(HttpRequest request)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        if (HttpMethods.IsPost(request.Method))
        {
            if (!request.HasFormContentType) return null;
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            foreach (var (name, values) in form)
                foreach (var value in values)
                    parameters.Add(new(name, value ?? ""));
            return parameters;
        }
        foreach (var (name, values) in request.Query)
            foreach (var value in values)
                parameters.Add(new(name, value ?? ""));
        return parameters;
    }

}
