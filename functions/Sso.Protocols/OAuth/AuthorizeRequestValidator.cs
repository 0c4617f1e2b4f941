namespace Sso.Protocols.OAuth;

/// <summary>An authorization request that passed every check (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636).</summary>
public sealed record AuthorizeRequest
{
    public required string ClientId { get; init; }
    public required string RedirectUri { get; init; }
    public string? State { get; init; }
    public string? Nonce { get; init; }
    public string? CodeChallenge { get; init; }
    public string? CodeChallengeMethod { get; init; }

    /// <summary>The requested scopes this service knows, space-separated (unknown ones are dropped).</summary>
    public required string Scope { get; init; }

    public required string ResponseMode { get; init; }
    public string? LoginHint { get; init; }
    public string? Tenant { get; init; }
    public string? Connection { get; init; }

    /// <summary><c>prompt=login</c> and <c>max_age</c>, forwarded to the IdP and checked on the way back.</summary>
    public StepUpDemand StepUp { get; init; } = StepUpDemand.None;
}

/// <summary>
/// Why an authorization request was refused. When <see cref="RedirectUri"/> is null the
/// redirect URI could not be trusted (unknown client, missing or unregistered redirect URI)
/// and the user sees a page; otherwise the error goes back to the client with its state.
/// </summary>
public sealed record AuthorizeFailure(OAuthError Error, string? RedirectUri, string? State, string ResponseMode)
{
    public bool CanRedirect => RedirectUri is not null;
}

public static class AuthorizeRequestValidator
{
    public const int MaxParameterLength = 2048;
    public static readonly IReadOnlyList<string> SupportedScopes = ["openid", "email", "profile"];

    /// <param name="parameters">Every query (or form) parameter in order, repeats included.</param>
    /// <param name="registeredRedirectUris">The client's registered redirect URIs; null when client_id names no client.</param>
    public static Result<AuthorizeRequest, AuthorizeFailure> Validate(
        IReadOnlyList<KeyValuePair<string, string>> parameters, IReadOnlyList<string>? registeredRedirectUris)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? repeated = null;
        foreach (var (name, value) in parameters)
            if (!values.TryAdd(name, value)) repeated ??= name;

        // Until the redirect URI is proven to be the client's, nothing may be sent to it (RFC 6749 §4.1.2.1).
        if (Get(values, "client_id") is not { } clientId)
            return Page("The request has no client_id.");
        if (repeated is "client_id" or "redirect_uri")
            return Page($"The parameter '{repeated}' appears more than once.");
        if (registeredRedirectUris is null)
            return Page($"There is no client '{Truncate(clientId)}'.");
        if (Get(values, "redirect_uri") is not { } redirectUri)
            return Page("The request has no redirect_uri; send one of the client's registered redirect URIs.");
        if (!registeredRedirectUris.Contains(redirectUri, StringComparer.Ordinal))
            return Page("The redirect_uri is not registered for this client; it must match a registered URI exactly.");

        var state = Get(values, "state");
        // OAuth 2.0 Multiple Response Types §2.1: an unknown response_mode is an error, sent the default way.
        var responseMode = Get(values, "response_mode") ?? ResponseModeQuery;
        if (responseMode is not (ResponseModeQuery or ResponseModeFormPost))
            return Redirect(OAuthError.InvalidRequest("response_mode must be 'query' or 'form_post'."), redirectUri, state, ResponseModeQuery);

        if (repeated is not null)
            return Redirect(OAuthError.InvalidRequest($"The parameter '{repeated}' appears more than once."), redirectUri, state, responseMode);
        if (values.Values.Any(v => v.Length > MaxParameterLength))
            return Redirect(OAuthError.InvalidRequest($"A parameter is longer than {MaxParameterLength} characters."), redirectUri, state, responseMode);

        if (Get(values, "response_type") is not { } responseType)
            return Redirect(OAuthError.InvalidRequest("response_type is required; this service supports 'code'."), redirectUri, state, responseMode);
        if (responseType != "code")
            return Redirect(new OAuthError(OAuthErrorCodes.UnsupportedResponseType, "Only response_type=code is supported."),
                redirectUri, state, responseMode);

        var challenge = Get(values, "code_challenge");
        var method = Get(values, "code_challenge_method");
        if (challenge is null && method is not null)
            return Redirect(OAuthError.InvalidRequest("code_challenge_method was sent without code_challenge."), redirectUri, state, responseMode);
        if (challenge is not null)
        {
            // RFC 7636 §4.3: an absent method means "plain", which this service refuses (§4.4.1 S256 is mandatory to implement).
            if (method != Pkce.S256)
                return Redirect(OAuthError.InvalidRequest("code_challenge_method must be S256; plain is not supported."),
                    redirectUri, state, responseMode);
            if (!Pkce.IsValidS256Challenge(challenge))
                return Redirect(OAuthError.InvalidRequest("code_challenge must be 43 base64url characters (S256)."),
                    redirectUri, state, responseMode);
        }

        // OIDC Core §3.1.2.6: this service always shows the IdP, so it cannot answer without interaction.
        if (Get(values, "prompt") is { } prompt && prompt.Split(' ').Contains("none"))
            return Redirect(new OAuthError(OAuthErrorCodes.LoginRequired, "prompt=none is not supported; the user must sign in at the IdP."),
                redirectUri, state, responseMode);

        // OIDC Core §3.1.2.1: max_age is a non-negative number of seconds.
        int? maxAge = null;
        if (Get(values, "max_age") is { } rawMaxAge)
        {
            if (!int.TryParse(rawMaxAge, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                return Redirect(OAuthError.InvalidRequest("max_age must be a whole number of seconds (0 or more)."), redirectUri, state, responseMode);
            maxAge = seconds;
        }
        var forceLogin = Get(values, "prompt") is { } promptValues && promptValues.Split(' ').Contains("login");

        var scopes = (Get(values, "scope") ?? "openid").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(s => SupportedScopes.Contains(s)).Distinct().ToList();
        if (scopes.Count == 0) scopes.Add("openid");

        return new AuthorizeRequest
        {
            ClientId = clientId,
            RedirectUri = redirectUri,
            State = state,
            Nonce = Get(values, "nonce"),
            CodeChallenge = challenge,
            CodeChallengeMethod = challenge is null ? null : method,
            Scope = string.Join(' ', scopes),
            ResponseMode = responseMode,
            LoginHint = Get(values, "login_hint"),
            Tenant = Get(values, "tenant"),
            Connection = Get(values, "connection"),
            StepUp = new StepUpDemand(forceLogin, maxAge),
        };
    }

    public const string ResponseModeQuery = "query";
    public const string ResponseModeFormPost = "form_post";

    // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
    private static string? Get(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    private static AuthorizeFailure Page(string description) =>
        new(OAuthError.InvalidRequest(description), null, null, ResponseModeQuery);

    private static AuthorizeFailure Redirect(OAuthError error, string redirectUri, string? state, string responseMode) =>
        new(error, redirectUri, state, responseMode);

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
