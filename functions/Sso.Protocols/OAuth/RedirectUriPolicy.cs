namespace Sso.Protocols.OAuth;

/// <summary>Which redirect URIs a client may register (RFC 6749 §3.1.2, RFC 8252 §7.3).</summary>
public static class RedirectUriPolicy
{
    public const int MaxLength = 2048;

    /// <param name="allowLoopbackHttp">True only when the service runs in Development (DESIGN.md §4).</param>
    public static Result<Uri, string> Validate(string? candidate, bool allowLoopbackHttp)
    {
        if (string.IsNullOrWhiteSpace(candidate))
            return "a redirect URI is empty";
        if (candidate.Length > MaxLength)
            return $"a redirect URI is longer than {MaxLength} characters";
        if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri))
            return $"'{candidate}' is not an absolute URL";
        // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component.
        if (candidate.Contains('#'))
            return $"'{candidate}' has a fragment; redirect URIs must not";
        if (!string.IsNullOrEmpty(uri.UserInfo))
            return $"'{candidate}' carries user information; redirect URIs must not";
        if (uri.Scheme == Uri.UriSchemeHttps)
            return uri;
        if (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri))
            return allowLoopbackHttp
                ? uri
                : $"'{candidate}' uses http; only https is allowed outside Development";
        if (uri.Scheme == Uri.UriSchemeHttp)
            return $"'{candidate}' uses http; only https is allowed (http only on loopback in Development)";
        return $"'{candidate}' uses the scheme '{uri.Scheme}'; only https is allowed";
    }

    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || uri.Host is "127.0.0.1" or "localhost" or "[::1]";
}
