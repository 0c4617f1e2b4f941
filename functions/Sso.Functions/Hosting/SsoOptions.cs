namespace Sso.Functions.Hosting;

/// <summary>Service-wide settings that are not about a particular backend.</summary>
public sealed record SsoOptions(Uri PublicBaseUrl, bool IsDevelopment)
{
    public const string LocalBaseUrl = "http://127.0.0.1:7071";

    /// <summary>http on loopback is allowed for redirect URIs, issuers and metadata URLs only in Development.</summary>
    public bool AllowLoopbackHttp => IsDevelopment;

    public static SsoOptions From(IConfiguration configuration, IHostEnvironment environment)
    {
        var baseUrl = configuration["Sso:PublicBaseUrl"] is { Length: > 0 } configured ? configured : LocalBaseUrl;
        if (!Uri.TryCreate(baseUrl.TrimEnd('/'), UriKind.Absolute, out var uri))
            throw new InvalidOperationException("Sso:PublicBaseUrl must be an absolute URL.");
        return new SsoOptions(uri, environment.IsDevelopment());
    }

    /// <summary>An absolute URL on this service; the issuer is exactly the base URL, with no trailing slash.</summary>
    public string Url(string path) => PublicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + path;

    public string Issuer => PublicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
}
