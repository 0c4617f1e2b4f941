using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Oidc;
using Sso.Protocols.Oidc;
using static Sso.Functions.OperatorConsole.ConsoleLayout;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// Console sign-in through the SaaS team's own OpenID Connect provider (<see cref="ConsoleOidcOptions"/>,
/// e.g. their Entra ID): the authorization code flow with PKCE, <c>state</c> and <c>nonce</c>, through
/// the same discovery/JWKS cache, code redemption and ID token validation as tenants' OIDC
/// connections. An operator gets in when their verified email is allowed, or a group of the
/// configured claim is; anyone else is refused and nothing is written.
/// </summary>
public static partial class ConsoleOidcSignIn
{
    public const string StartPath = Base + "/sign-in/oidc";
    public const string CallbackPath = Base + "/sign-in/oidc/callback";
    public const string StateCookieName = "sso_console_oidc";
    public const string RefusalReason = "console_oidc_refused";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        // A link, not a form: the CSP's form-action 'self' would stop a form's redirect to the IdP.
        // Starting a sign-in changes nothing but this browser's own pending state.
        new("ConsoleOidcSignIn", StartPath, ["GET"], StartAsync),
        new("ConsoleOidcCallback", CallbackPath, ["GET"], CallbackAsync),
    ];

    private static async Task<IResult> StartAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var authentication = services.GetRequiredService<ConsoleOidcAuthentication>();
        var oidc = authentication.Options;
        if (!oidc.IsConfigured) return ConsoleResults.Refused(404, "Not configured", "Sign-in through an identity provider is not configured for this console.");
        var returnPath = ConsoleSignIn.ReturnPath(context.Request.Query["return"].ToString());
        var started = await authentication.StartAsync(returnPath, context.RequestAborted);
        if (!started.TryGetValue(out var start, out var refused))
        {
            ConsoleSignIn.LogSignInRefused(Logger(services), refused.Outcome);
            return ConsoleSignIn.SignInPage(refused.Status, refused.Message, returnPath, oidc);
        }
        var secure = BrowserPages.IsHttps(context);
        // Lax, not Strict: the IdP's answer is a cross-site navigation, and this cookie must come with it.
        return ConsoleResults.SeeOther(start.Url, response => response.Cookies.Append(StateCookieName, start.State, new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = secure, Path = CallbackPath, IsEssential = true,
            Expires = start.ExpiresAt,
        }));
    }

    private static async Task<IResult> CallbackAsync(HttpContext context)
    {
        var completion = context.RequestServices.GetRequiredService<ConsoleOidcSignInCompletion>();
        var oidc = completion.Options;
        if (!oidc.IsConfigured) return ConsoleResults.Refused(404, "Not configured", "Sign-in through an identity provider is not configured for this console.");
        var query = context.Request.Query;
        var completed = await completion.CompleteAsync(new ConsoleOidcCallback(context.Request.Cookies[StateCookieName], query["state"].ToString(),
            query["iss"].Where(v => v is not null).Select(v => v!).ToList(), query["error"].ToString(), query["code"].ToString()), context.RequestAborted);
        if (!completed.TryGetValue(out var done, out var refused))
            return ConsoleSignIn.SignInPage(refused.Status, refused.Message, Base, oidc);

        var signedIn = done.Operator;
        var email = signedIn.Email;
        var setSession = ConsoleSessionGate.SetCookie(context, done.Started);
        var secure = BrowserPages.IsHttps(context);
        // The session cookie is SameSite=Strict, and this answer ends a navigation that started at the
        // IdP: a redirect would arrive without it. A page of ours that moves on starts a same-site one.
        return BrowserPages.Page(200, Page("Signed in", ConsoleSection.None, null,
            $"<meta http-equiv=\"refresh\" content=\"0; url={E(signedIn.ReturnPath)}\"><p>You are signed in as {E(email)}.</p>"
            + $"<p><a class=\"button\" href=\"{E(signedIn.ReturnPath)}\">Continue</a></p>"), response =>
        {
            setSession(response);
            response.Cookies.Delete(StateCookieName, new CookieOptions { Path = CallbackPath, Secure = secure, HttpOnly = true, SameSite = SameSiteMode.Lax });
        });
    }

    /// <summary>Whether the operator's verified email, or a value of the configured group claim, is allowed.</summary>
    public static bool IsAllowed(ConsoleOidcOptions oidc, string email, JsonObject claims)
    {
        if (oidc.AllowedEmails.Contains(email.ToLowerInvariant())) return true;
        if (oidc.GroupClaim is not { Length: > 0 } claim || oidc.AllowedGroups.Count == 0) return false;
        var values = claims[claim] switch
        {
            JsonArray array => array.Select(g => g is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>(),
            JsonValue value when value.TryGetValue<string>(out var single) => [single],
            _ => [],
        };
        return values.Any(g => oidc.AllowedGroups.Contains(g, StringComparer.Ordinal));
    }

    public static string RedirectUri(IServiceProvider services) => services.GetRequiredService<SsoOptions>().Url(CallbackPath);

    private static ILogger Logger(IServiceProvider services) => services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.OperatorConsole");
}
