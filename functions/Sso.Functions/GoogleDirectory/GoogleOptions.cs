using Sso.Functions.Hosting;

namespace Sso.Functions.GoogleDirectory;

/// <summary>
/// The SaaS team's Google OAuth client and where Google is (<c>Google:*</c>; tests point the URLs at
/// a loopback fake). The URLs must be https; http on loopback only in Development.
/// </summary>
public sealed record GoogleOptions(
    string? ClientId, string? ClientSecret, Uri AuthorizeUrl, Uri TokenUrl, Uri DirectoryApiBaseUrl, TimeSpan SyncInterval, TimeSpan RetryBase)
{
    public const int MaxAttempts = 5;

    public bool IsConfigured => ClientId is { Length: > 0 } && ClientSecret is { Length: > 0 };

    public static GoogleOptions From(IConfiguration configuration, SsoOptions sso)
    {
        var section = configuration.GetSection("Google");
        return new GoogleOptions(
            section["ClientId"] is { Length: > 0 } id ? id : null,
            section["ClientSecret"] is { Length: > 0 } secret ? secret : null,
            Url(section, "AuthorizeUrl", "https://accounts.google.com/o/oauth2/v2/auth", sso),
            Url(section, "TokenUrl", "https://oauth2.googleapis.com/token", sso),
            Url(section, "DirectoryApiBaseUrl", "https://admin.googleapis.com", sso),
            TimeSpan.FromMinutes(double.TryParse(section["SyncMinutes"], System.Globalization.CultureInfo.InvariantCulture, out var minutes)
                                 && minutes > 0 ? minutes : 30),
            TimeSpan.FromSeconds(double.TryParse(section["RetryBaseSeconds"], System.Globalization.CultureInfo.InvariantCulture, out var retry)
                                 && retry >= 0 ? retry : 10));
    }

    private static Uri Url(IConfigurationSection section, string key, string fallback, SsoOptions sso)
    {
        var value = section[key] is { Length: > 0 } configured ? configured : fallback;
        if (!Uri.TryCreate(value.TrimEnd('/'), UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (sso.AllowLoopbackHttp && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
            throw new InvalidOperationException($"Google:{key} must be an absolute https URL (http on loopback only in Development).");
        return uri;
    }

    /// <summary>Backoff before attempt <paramref name="nextAttempt"/> (2, 3, ...) of a page after a 429 or 5xx: doubling, at most 10 minutes.</summary>
    public TimeSpan DelayBefore(int nextAttempt) =>
        TimeSpan.FromSeconds(Math.Min(RetryBase.TotalSeconds * Math.Pow(2, Math.Max(0, nextAttempt - 2)), 600));
}
