using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using static Sso.Functions.Setup.SetupHtml;

namespace Sso.Functions.Setup;

/// <summary>
/// The wizard's Test sign-in: a real sign-in through the configured connection, started and
/// finished by the same code as <c>/oauth/authorize</c>, the ACS and the OIDC callback, for the
/// tenant's internal "setup portal" OAuth client. Its code comes back to
/// <c>/setup/test-callback</c>, which redeems it at once (the client's secret is never kept) and
/// shows what the IdP sent on <c>/setup/test-result</c>. The work is <see cref="SetupTestSignInFlow"/>'s;
/// these handlers gate, call it and write the page, the cookie or the redirect.
/// <para>
/// The callback URL carries no setup token (it would then sit in the pending sign-in and code
/// rows): the token travels in a short-lived cookie scoped to the callback path, SameSite=Lax so
/// that the top-level redirect back from a cross-site IdP carries it.
/// </para>
/// </summary>
public static class SetupTestSignIn
{
    public const string CookieName = "sso_setup_test";
    public const string CallbackPath = "/setup/test-callback";

    public static async Task<IResult> StartAsync(HttpContext context)
    {
        if (!(await SetupSessionGate.OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        var started = await context.RequestServices.GetRequiredService<SetupTestSignInFlow>().StartAsync(session.Link, context.RequestAborted);
        if (!started.IsSuccess)
            return SetupSessionGate.Render(context, session, 409, "Test sign-in", "sso", started.Error == SetupTestRefusal.NoConnection
                ? "<p>Save the connection first, then run Test sign-in.</p>"
                : "<p>The setup changed in another window; try again.</p>");
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        context.Response.Cookies.Append(CookieName, session.Token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = SetupSessionGate.IsHttps(context),
            Path = CallbackPath,
            MaxAge = PendingSignIn.Lifetime,
            IsEssential = true,
        });
        return SignInStarters.ToResult(context, started.Value);
    }

    public static async Task<IResult> CallbackAsync(HttpContext context)
    {
        var token = context.Request.Cookies[CookieName];
        if (string.IsNullOrEmpty(token))
            return Unusable(400, "Test sign-in not found",
                "This browser did not start a test sign-in (or it took longer than 10 minutes). Start it again from the setup page.");
        if (!(await SetupSessionGate.OpenAsync(context, token)).TryGetValue(out var session, out var refusal)) return refusal;
        var query = context.Request.Query;
        var finished = await context.RequestServices.GetRequiredService<SetupTestSignInFlow>().FinishAsync(session.Link,
            query["state"].ToString(), query["code"].ToString(), query["error"].ToString(), query["error_description"].ToString(),
            context.RequestAborted);
        if (!finished.IsSuccess)
            return finished.Error == SetupTestRefusal.WrongState
                ? SetupSessionGate.Render(context, session, 400, "Test sign-in", "sso",
                    "<p>This answer does not belong to the test sign-in this page started. Start Test sign-in again.</p>")
                : SetupSessionGate.Render(context, session, 409, "Test sign-in", "sso", "<p>The setup changed in another window; try again.</p>");
        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = CallbackPath });
        return SeeOther(session.Path("/test-result"));
    }

    public static async Task<IResult> ResultPageAsync(HttpContext context)
    {
        if (!(await SetupSessionGate.OpenAsync(context)).TryGetValue(out var session, out var refusal)) return refusal;
        var main = new StringBuilder();
        if (session.Link.LastTest is not { } test)
        {
            main.Append("<p>No test sign-in has finished yet.</p>");
        }
        else if (test["outcome"]?.GetValue<string>() != "success")
        {
            main.Append(Alert("error", "The sign-in was refused: " + test["error"] + " (" + test["errorDescription"] + ")."))
                .Append("<p>").Append(E(Explain(test["errorDescription"]?.ToString()))).Append("</p>");
        }
        else
        {
            var user = test["user"]!.AsObject();
            main.Append(Alert("ok", "Signed in as " + user["email"] + "."))
                .Append("<p>Role in the product: <strong id=\"mapped-role\">").Append(E(user["role"]?.ToString())).Append("</strong>")
                .Append(" <span class=\"muted\">(from the tenant's group role mappings and default role)</span></p>")
                .Append("<h2>Claims the product receives</h2><table id=\"claims\">");
            foreach (var (name, member) in new[]
                     {
                         ("email", "email"), ("name", "name"), ("given_name", "givenName"), ("family_name", "familyName"),
                         ("groups", "groups"), ("role", "role"), ("sub", "sub"), ("tenant", "tenant"), ("connection", "connection"),
                     })
                main.Append("<tr><th>").Append(E(name)).Append("</th><td><code>").Append(E(Show(user[member]))).Append("</code></td></tr>");
            main.Append("</table><h2>Attributes the IdP sent</h2><table id=\"idp-attributes\">");
            if (user["idp"] is JsonObject attributes)
                foreach (var (name, value) in attributes)
                    main.Append("<tr><th><code>").Append(E(name)).Append("</code></th><td><code>").Append(E(Show(value))).Append("</code></td></tr>");
            main.Append("</table>");
        }
        main.Append("<a class=\"button\" href=\"").Append(E(session.Path("/test-sign-in"))).Append("\">Test again</a>");
        return SetupSessionGate.Render(context, session, 200, "Test sign-in result", "sso", main.ToString());
    }

    private static string Show(JsonNode? node) => node switch
    {
        null => "",
        JsonArray array => string.Join(", ", array.Select(Show)),
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };

    private static string Explain(string? reason) => reason switch
    {
        SignInRefusals.UserNotProvisioned => "The IdP signed you in, but the directory has no user with that email and just-in-time provisioning is off. Sync the user with directory sync first.",
        SignInRefusals.UserSuspended or SignInRefusals.UserDeprovisioned => "The directory has this user as suspended or deprovisioned.",
        SignInRefusals.EmailMissing => "The IdP sent no email address: send it as the NameID or an email attribute.",
        SignInRefusals.EmailDomainNotAllowed => "The email's domain belongs to another organisation of this service.",
        SignInRefusals.IdpResponseRejected => "The IdP's answer did not pass validation: check the ACS URL, the SP entity ID and the signing certificate.",
        SignInRefusals.SignInExpired => "The sign-in took more than 10 minutes; start it again.",
        SignInRefusals.ConnectionDomainsNotSet => "This organisation has another identity provider connected: an administrator must assign this one the email domains it may vouch for.",
        SignInRefusals.EmailDomainNotAssertedByConnection => "The email's domain is not one of the domains this identity provider may vouch for.",
        SignInRefusals.ConnectionDisabled => "This connection is disabled: its setup link was revoked before an administrator confirmed it.",
        _ => "Check the IdP's configuration against the values on the setup page.",
    };
}
