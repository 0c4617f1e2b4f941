namespace Sso.Protocols.OAuth;

/// <summary>The error codes of RFC 6749 §4.1.2.1 and §5.2 (and OIDC Core §3.1.2.6) this service sends.</summary>
public static class OAuthErrorCodes
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidClient = "invalid_client";
    public const string InvalidGrant = "invalid_grant";
    public const string UnauthorizedClient = "unauthorized_client";
    public const string UnsupportedGrantType = "unsupported_grant_type";
    public const string UnsupportedResponseType = "unsupported_response_type";
    public const string InvalidScope = "invalid_scope";
    public const string AccessDenied = "access_denied";
    public const string ServerError = "server_error";
    public const string TemporarilyUnavailable = "temporarily_unavailable";
    public const string LoginRequired = "login_required";
}

/// <summary>
/// An OAuth failure: the RFC error code and a description for the developer. Descriptions
/// never echo a secret, a code or a token.
/// </summary>
public sealed record OAuthError(string Code, string Description)
{
    public static OAuthError InvalidRequest(string description) => new(OAuthErrorCodes.InvalidRequest, description);

    public static OAuthError InvalidGrant(string description) => new(OAuthErrorCodes.InvalidGrant, description);

    public override string ToString() => $"{Code}: {Description}";
}
