using System.Text;

namespace Sso.Protocols.OAuth;

/// <summary>A token request that is well-formed (RFC 6749 §4.1.3); the client is not yet authenticated.</summary>
public sealed record TokenRequest
{
    public required string ClientId { get; init; }
    public required string ClientSecret { get; init; }

    /// <summary>True for client_secret_basic (the 401 then carries a Basic challenge).</summary>
    public required bool UsedBasic { get; init; }

    public required string Code { get; init; }
    public required string RedirectUri { get; init; }
    public string? CodeVerifier { get; init; }
}

/// <summary>What the stored authorization code was bound to, for <see cref="TokenRequestValidator.CheckGrant"/>.</summary>
public sealed record CodeBinding(string ClientId, string RedirectUri, string? CodeChallenge, DateTimeOffset ExpiresAt);

/// <summary>A token request failure, with whether the client authenticated with HTTP Basic.</summary>
public sealed record TokenFailure(OAuthError Error, bool UsedBasic)
{
    public bool IsInvalidClient => Error.Code == OAuthErrorCodes.InvalidClient;
}

public static class TokenRequestValidator
{
    /// <param name="form">The form parameters in order, repeats included.</param>
    /// <param name="authorizationHeader">The raw Authorization header, if any.</param>
    public static Result<TokenRequest, TokenFailure> Validate(
        IReadOnlyList<KeyValuePair<string, string>> form, string? authorizationHeader)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? repeated = null;
        foreach (var (name, value) in form)
            if (!values.TryAdd(name, value)) repeated ??= name;

        var basic = ReadBasic(authorizationHeader);
        var usedBasic = basic is not null;
        if (authorizationHeader is { Length: > 0 } && basic is null)
            return new TokenFailure(new OAuthError(OAuthErrorCodes.InvalidClient,
                "The Authorization header is not valid HTTP Basic client authentication."), true);
        if (repeated is not null)
            return Fail(OAuthError.InvalidRequest($"The parameter '{repeated}' appears more than once."), usedBasic);

        var bodyId = Get(values, "client_id");
        var bodySecret = Get(values, "client_secret");
        string clientId, clientSecret;
        if (basic is { } credentials)
        {
            // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in a request.
            if (bodySecret is not null)
                return Fail(OAuthError.InvalidRequest("Send the client secret either in the Authorization header or in the body, not both."), true);
            if (bodyId is not null && bodyId != credentials.Id)
                return Fail(OAuthError.InvalidRequest("client_id in the body differs from the one in the Authorization header."), true);
            (clientId, clientSecret) = credentials;
        }
        else
        {
            if (bodyId is null || bodySecret is null)
                return new TokenFailure(new OAuthError(OAuthErrorCodes.InvalidClient,
                    "Authenticate the client with client_secret_basic or client_secret_post."), false);
            (clientId, clientSecret) = (bodyId, bodySecret);
        }

        if (Get(values, "grant_type") is not { } grantType)
            return Fail(OAuthError.InvalidRequest("grant_type is required."), usedBasic);
        if (grantType != "authorization_code")
            return Fail(new OAuthError(OAuthErrorCodes.UnsupportedGrantType, "Only grant_type=authorization_code is supported."), usedBasic);
        if (Get(values, "code") is not { } code)
            return Fail(OAuthError.InvalidRequest("code is required."), usedBasic);
        if (Get(values, "redirect_uri") is not { } redirectUri)
            return Fail(OAuthError.InvalidRequest("redirect_uri is required: send the one used at the authorization endpoint."), usedBasic);
        var verifier = Get(values, "code_verifier");
        if (verifier is not null && !Pkce.IsValidVerifier(verifier))
            return Fail(OAuthError.InvalidRequest("code_verifier must be 43-128 unreserved characters (RFC 7636 §4.1)."), usedBasic);

        return new TokenRequest
        {
            ClientId = clientId,
            ClientSecret = clientSecret,
            UsedBasic = usedBasic,
            Code = code,
            RedirectUri = redirectUri,
            CodeVerifier = verifier,
        };
    }

    /// <summary>
    /// The checks on a redeemed code: the client and redirect URI it was issued for, its expiry,
    /// and PKCE. A challenge sent at authorize makes the verifier mandatory, also for a confidential
    /// client; a verifier without a challenge is refused too (a PKCE downgrade, RFC 9700 §2.1.1).
    /// </summary>
    public static Result<CodeBinding, OAuthError> CheckGrant(CodeBinding code, TokenRequest request, DateTimeOffset now)
    {
        if (code.ClientId != request.ClientId)
            return OAuthError.InvalidGrant("The code was issued to another client.");
        if (now >= code.ExpiresAt)
            return OAuthError.InvalidGrant("The code has expired; start the sign-in again.");
        if (code.RedirectUri != request.RedirectUri)
            return OAuthError.InvalidGrant("redirect_uri differs from the one used at the authorization endpoint.");
        if (code.CodeChallenge is { } challenge)
        {
            if (request.CodeVerifier is not { } verifier)
                return OAuthError.InvalidGrant("code_verifier is required: a code_challenge was sent at the authorization endpoint.");
            if (!Pkce.Verify(verifier, challenge))
                return OAuthError.InvalidGrant("code_verifier does not match the code_challenge.");
        }
        else if (request.CodeVerifier is not null)
        {
            return OAuthError.InvalidGrant("code_verifier was sent, but no code_challenge was sent at the authorization endpoint.");
        }
        return code;
    }

    /// <summary>RFC 6749 §2.3.1: Basic with the form-urlencoded client id and secret.</summary>
    public static (string Id, string Secret)? ReadBasic(string? header)
    {
        if (header is not { Length: > 6 } || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':');
            if (colon <= 0) return null;
            var id = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
            var secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
            return secret.Length == 0 ? null : (id, secret);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string? Get(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    private static TokenFailure Fail(OAuthError error, bool usedBasic) => new(error, usedBasic);
}
