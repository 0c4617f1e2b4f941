using System.Security.Cryptography;
using System.Text;

namespace Sso.Protocols.Oidc;

/// <summary>
/// The authentication request this service sends to an IdP (OpenID Connect Core 1.0 §3.1.2.1):
/// the authorization code flow with PKCE S256 (RFC 7636), <c>state</c> bound to the pending
/// sign-in and a <c>nonce</c> that the id_token must echo.
/// </summary>
public sealed record OidcAuthorizationRequest(
    Uri AuthorizationEndpoint,
    string ClientId,
    string RedirectUri,
    IReadOnlyList<string> Scopes,
    string State,
    string Nonce,
    string CodeVerifier,
    string? LoginHint = null,
    bool ForceLogin = false,
    int? MaxAgeSeconds = null)
{
    public static readonly IReadOnlyList<string> DefaultScopes = ["openid", "email", "profile"];

    /// <summary>RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))).</summary>
    public static string CodeChallengeS256(string codeVerifier) =>
        System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(codeVerifier)));

    /// <summary>Scopes as sent: <c>openid</c> first and once, whatever the connection configured.</summary>
    public static IReadOnlyList<string> NormalizeScopes(IEnumerable<string>? scopes)
    {
        var list = new List<string> { "openid" };
        foreach (var scope in scopes ?? DefaultScopes)
            if (!list.Contains(scope, StringComparer.Ordinal)) list.Add(scope);
        return list;
    }

    /// <summary>The URL to redirect the browser to. Query parameters the IdP put in its endpoint are kept.</summary>
    public Uri ToUri()
    {
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("response_type", "code"),
            new("client_id", ClientId),
            new("redirect_uri", RedirectUri),
            new("scope", string.Join(' ', NormalizeScopes(Scopes))),
            new("state", State),
            new("nonce", Nonce),
            new("code_challenge", CodeChallengeS256(CodeVerifier)),
            new("code_challenge_method", "S256"),
        };
        if (!string.IsNullOrEmpty(LoginHint)) parameters.Add(new("login_hint", LoginHint));
        if (ForceLogin) parameters.Add(new("prompt", "login"));
        if (MaxAgeSeconds is { } maxAge) parameters.Add(new("max_age", maxAge.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var builder = new StringBuilder(AuthorizationEndpoint.GetLeftPart(UriPartial.Path));
        var existing = AuthorizationEndpoint.Query.TrimStart('?');
        builder.Append('?');
        if (existing.Length > 0) builder.Append(existing).Append('&');
        builder.AppendJoin('&', parameters.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
        return new Uri(builder.ToString());
    }
}
