using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
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
        var oidc = services.GetRequiredService<ConsoleOidcOptions>();
        if (!oidc.IsConfigured) return ConsoleResults.Refused(404, "Not configured", "Sign-in through an identity provider is not configured for this console.");
        var returnPath = ConsoleSignIn.ReturnPath(context.Request.Query["return"].ToString());
        var metadata = await services.GetRequiredService<OidcProviderCache>().GetMetadataAsync(oidc.Issuer!, context.RequestAborted);
        if (!metadata.IsSuccess)
        {
            ConsoleSignIn.LogSignInRefused(Logger(services), "identity provider unreachable: " + metadata.Error.Kind);
            return ConsoleSignIn.SignInPage(503, $"{oidc.DisplayName} could not be reached ({metadata.Error.Kind}); try again, or sign in with an admin key.",
                returnPath, oidc);
        }

        var state = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var nonce = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var codeVerifier = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        await services.GetRequiredService<ConsoleSessionStore>()
            .CreatePendingAsync(new ConsolePendingSignIn(HashOf(state), nonce, codeVerifier, returnPath, now), context.RequestAborted);
        var request = new OidcAuthorizationRequest(metadata.Value.AuthorizationEndpoint, oidc.ClientId!, RedirectUri(services), oidc.Scopes,
            state, nonce, codeVerifier);
        var secure = BrowserPages.IsHttps(context);
        // Lax, not Strict: the IdP's answer is a cross-site navigation, and this cookie must come with it.
        return ConsoleResults.SeeOther(request.ToUri().AbsoluteUri, response => response.Cookies.Append(StateCookieName, state, new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = secure, Path = CallbackPath, IsEssential = true,
            Expires = now + ConsolePendingSignIn.Lifetime,
        }));
    }

    private static async Task<IResult> CallbackAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var oidc = services.GetRequiredService<ConsoleOidcOptions>();
        if (!oidc.IsConfigured) return ConsoleResults.Refused(404, "Not configured", "Sign-in through an identity provider is not configured for this console.");
        var query = context.Request.Query;
        var state = query["state"].ToString();
        // The state must be the one this browser was sent off with: another browser's callback (a
        // login CSRF) carries a state whose cookie this browser does not have.
        if (context.Request.Cookies[StateCookieName] is not { Length: 43 } expected || state.Length != 43
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(state)))
            return Refuse(context, oidc, 400, "This sign-in did not start in this browser, or took too long. Start again.", "state mismatch");
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        if (await services.GetRequiredService<ConsoleSessionStore>().TakePendingAsync(HashOf(state), context.RequestAborted) is not { } pending
            || now - pending.CreatedAt > ConsolePendingSignIn.Lifetime)
            return Refuse(context, oidc, 400, "This sign-in was already used or has expired. Start again.", "state unknown or expired");

        var metadata = await services.GetRequiredService<OidcProviderCache>().GetMetadataAsync(oidc.Issuer!, context.RequestAborted);
        if (!metadata.IsSuccess)
            return Refuse(context, oidc, 503, $"{oidc.DisplayName} could not be reached ({metadata.Error.Kind}).", "discovery " + metadata.Error.Kind);
        var provider = metadata.Value;
        if (OidcSignInVerifier.CheckIssParameter(query["iss"].Where(v => v is not null).Select(v => v!).ToList(), provider) is { } mixUp)
            return Refuse(context, oidc, 400, "The answer did not come from the configured identity provider.", mixUp.Kind.ToString());
        if (query["error"].ToString() is { Length: > 0 } idpError)
            return Refuse(context, oidc, 403, $"{oidc.DisplayName} did not sign you in ({Printable(idpError)}).", "idp error");
        if (query["code"].ToString() is not { Length: > 0 and <= 4096 } code)
            return Refuse(context, oidc, 400, "The identity provider's answer has no authorization code.", "no code");

        var redeemed = await services.GetRequiredService<OidcSignInVerifier>().ExchangeCodeAsync(provider, oidc.ClientId!, oidc.ClientSecret ?? "",
            RedirectUri(services), code, pending.CodeVerifier, context.RequestAborted);
        if (!redeemed.IsSuccess)
            return Refuse(context, oidc, 502, $"{oidc.DisplayName} did not redeem the sign-in ({redeemed.Error.Kind}).", redeemed.Error.Kind.ToString());
        var expectations = new IdTokenExpectations(provider.Issuer, oidc.ClientId!, pending.Nonce, TimeSpan.FromSeconds(OidcConnectionSetup.DefaultClockSkewSeconds));
        var validated = await OidcSignInVerifier.ValidateWithKeyRefreshAsync(services.GetRequiredService<OidcProviderCache>(), provider,
            redeemed.Value.IdToken, expectations, now, context.RequestAborted);
        if (!validated.IsSuccess)
            return Refuse(context, oidc, 403, $"The ID token from {oidc.DisplayName} was not accepted ({validated.Error.Kind}).", validated.Error.Kind.ToString());
        var completed = await services.GetRequiredService<OidcSignInVerifier>()
            .AddUserInfoAsync(provider, validated.Value, redeemed.Value.AccessToken, context.RequestAborted);
        if (!completed.IsSuccess)
            return Refuse(context, oidc, 502, $"{oidc.DisplayName} did not answer for your profile ({completed.Error.Kind}).", completed.Error.Kind.ToString());
        var token = completed.Value;
        if (OidcEmailVerification.Check(token, allowUnverifiedEmail: false) is { } unverified || token.Email is not { Length: > 0 } email)
            return Refuse(context, oidc, 403, "Your identity provider did not assert a verified email address.", "email not verified");
        if (!IsAllowed(oidc, email, token.Claims))
            return Refuse(context, oidc, 403, $"{email} is not an operator of this console. Ask for your address or group to be added to Console:Oidc.",
                "not an allowed operator");

        var actor = AuditActor.Operator(email.ToLowerInvariant());
        var setSession = await ConsoleSessionGate.StartAsync(context, actor, "oidc");
        await services.GetRequiredService<AuditLog>().RecordChangeAsync(null, actor, "console_session.create", null, [], "success", null, 200);
        ConsoleSignIn.LogSignedIn(Logger(services), "sub:" + HashOf(token.Subject)[..12], "oidc");
        var secure = BrowserPages.IsHttps(context);
        // The session cookie is SameSite=Strict, and this answer ends a navigation that started at the
        // IdP: a redirect would arrive without it. A page of ours that moves on starts a same-site one.
        return BrowserPages.Page(200, Page("Signed in", ConsoleSection.None, null,
            $"<meta http-equiv=\"refresh\" content=\"0; url={E(pending.ReturnPath)}\"><p>You are signed in as {E(email)}.</p>"
            + $"<p><a class=\"button\" href=\"{E(pending.ReturnPath)}\">Continue</a></p>"), response =>
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

    private static IResult Refuse(HttpContext context, ConsoleOidcOptions oidc, int status, string message, string outcome)
    {
        var services = context.RequestServices;
        services.GetRequiredService<RefusalCounter>().Count(AuditRecord.GlobalPartition, RefusalReason);
        ConsoleSignIn.LogSignInRefused(Logger(services), "oidc: " + outcome);
        return ConsoleSignIn.SignInPage(status, message, Base, oidc);
    }

    public static string RedirectUri(IServiceProvider services) => services.GetRequiredService<SsoOptions>().Url(CallbackPath);

    private static string HashOf(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    private static string Printable(string text) => new(text.Take(100).Where(c => c is >= ' ' and <= '~').ToArray());

    private static ILogger Logger(IServiceProvider services) => services.GetRequiredService<ILoggerFactory>().CreateLogger("Sso.Functions.OperatorConsole");
}
