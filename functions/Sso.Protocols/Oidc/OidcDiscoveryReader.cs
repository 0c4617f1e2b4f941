using System.Text.Json;

namespace Sso.Protocols.Oidc;

/// <summary>What this service uses from an OpenID Provider's discovery document, after validation.</summary>
public sealed record OidcProviderMetadata(
    string Issuer,
    Uri AuthorizationEndpoint,
    Uri TokenEndpoint,
    Uri JwksUri,
    Uri? UserInfoEndpoint,
    OidcClientAuthMethod TokenEndpointAuthMethod,
    bool SupportsPkceS256,
    bool SendsIssInAuthorizationResponse)
{
    /// <summary>
    /// Entra ID's multi-tenant endpoints (<c>/common</c>, <c>/organizations</c>) publish the issuer
    /// <c>https://login.microsoftonline.com/{tenantid}/v2.0</c>; each token names its tenant in <c>tid</c>.
    /// </summary>
    public bool IsIssuerTemplate => Issuer.Contains(OidcDiscoveryReader.EntraTenantPlaceholder, StringComparison.Ordinal);
}

/// <summary>How the client authenticates at the token endpoint (RFC 6749 §2.3.1).</summary>
public enum OidcClientAuthMethod
{
    ClientSecretBasic,
    ClientSecretPost,
}

/// <summary>
/// Reads and validates <c>/.well-known/openid-configuration</c> (OpenID Connect Discovery 1.0).
/// The document is the IdP's word about itself, so everything this service relies on is checked
/// here, at connection setup and on every refresh.
/// </summary>
public static class OidcDiscoveryReader
{
    public const string EntraTenantPlaceholder = "{tenantid}";
    public const int MaxDocumentBytes = 64 * 1024;

    public static string DiscoveryUrl(string issuer) => issuer.TrimEnd('/') + "/.well-known/openid-configuration";

    /// <param name="configuredIssuer">The issuer the connection was created with.</param>
    /// <param name="allowLoopbackHttp">True only in Development (DESIGN.md §4).</param>
    public static Result<OidcProviderMetadata, OidcFailure> Read(ReadOnlySpan<byte> unverifiedJson, string configuredIssuer, bool allowLoopbackHttp)
    {
        if (unverifiedJson.Length > MaxDocumentBytes)
            return OidcFailure.Of(OidcFailureKind.IdpResponseTooLarge, $"The discovery document is larger than {MaxDocumentBytes} bytes.");
        using var document = OidcJson.ParseDocument(unverifiedJson);
        if (document is null)
            return OidcFailure.Of(OidcFailureKind.DiscoveryMalformed, "The discovery document is not valid JSON (or repeats a member).");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            return OidcFailure.Of(OidcFailureKind.DiscoveryMalformed, "The discovery document is not a JSON object.");

        // Discovery §4.3: the issuer in the document MUST be identical to the one used to fetch it.
        if (ReadString(root, "issuer") is not { } issuer)
            return OidcFailure.Of(OidcFailureKind.DiscoveryMalformed, "The discovery document has no 'issuer'.");
        if (!IssuerMatches(issuer, configuredIssuer))
            return OidcFailure.Mismatch(OidcFailureKind.DiscoveryIssuerMismatch, "The discovery document's issuer", configuredIssuer, issuer);

        var endpoints = new Dictionary<string, Uri>();
        foreach (var (name, required) in new[] { ("authorization_endpoint", true), ("token_endpoint", true), ("jwks_uri", true), ("userinfo_endpoint", false) })
        {
            var value = ReadString(root, name);
            if (value is null)
            {
                if (required) return OidcFailure.Of(OidcFailureKind.DiscoveryMalformed, $"The discovery document has no '{name}'.");
                continue;
            }
            var endpoint = CheckUrl(value, name, allowLoopbackHttp);
            if (!endpoint.IsSuccess) return endpoint.Error;
            endpoints[name] = endpoint.Value;
        }

        // Discovery §3: response_types_supported is REQUIRED; this service uses the code flow only.
        var responseTypes = ReadStrings(root, "response_types_supported");
        if (responseTypes is null || !responseTypes.Contains("code"))
            return OidcFailure.Of(OidcFailureKind.DiscoveryCodeFlowUnsupported,
                "The IdP does not list 'code' in response_types_supported; this service signs in with the authorization code flow.");
        if (ReadStrings(root, "grant_types_supported") is { } grantTypes && !grantTypes.Contains("authorization_code"))
            return OidcFailure.Of(OidcFailureKind.DiscoveryCodeFlowUnsupported,
                "The IdP does not list 'authorization_code' in grant_types_supported.");

        // Discovery §3: when omitted, the default is client_secret_basic. Basic is preferred, as RFC 6749 §2.3.1 says.
        var authMethods = ReadStrings(root, "token_endpoint_auth_methods_supported") ?? ["client_secret_basic"];
        OidcClientAuthMethod authMethod;
        if (authMethods.Contains("client_secret_basic")) authMethod = OidcClientAuthMethod.ClientSecretBasic;
        else if (authMethods.Contains("client_secret_post")) authMethod = OidcClientAuthMethod.ClientSecretPost;
        else
            return OidcFailure.Of(OidcFailureKind.DiscoveryAuthMethodUnsupported,
                $"The token endpoint accepts only {string.Join(", ", authMethods.Take(5))}; this service authenticates with client_secret_basic or client_secret_post.");

        var pkce = ReadStrings(root, "code_challenge_methods_supported") is { } methods && methods.Contains("S256");
        var issParameter = root.TryGetProperty("authorization_response_iss_parameter_supported", out var iss)
                           && iss.ValueKind == JsonValueKind.True;

        return new OidcProviderMetadata(issuer, endpoints["authorization_endpoint"], endpoints["token_endpoint"],
            endpoints["jwks_uri"], endpoints.GetValueOrDefault("userinfo_endpoint"), authMethod, pkce, issParameter);
    }

    /// <summary>
    /// The document's issuer equals the configured one, or the configured one is an Entra ID
    /// multi-tenant authority (<c>common</c>, <c>organizations</c>) whose document publishes the
    /// <c>{tenantid}</c> template on the same host.
    /// </summary>
    public static bool IssuerMatches(string documentIssuer, string configuredIssuer)
    {
        if (string.Equals(documentIssuer, configuredIssuer, StringComparison.Ordinal)) return true;
        if (!documentIssuer.Contains(EntraTenantPlaceholder, StringComparison.Ordinal)) return false;
        if (!Uri.TryCreate(configuredIssuer, UriKind.Absolute, out var configured)) return false;
        var segments = configured.AbsolutePath.Trim('/').Split('/');
        if (segments.Length == 0 || segments[0] is not ("common" or "organizations")) return false;
        var rebuilt = documentIssuer.Replace(EntraTenantPlaceholder, segments[0], StringComparison.Ordinal);
        return string.Equals(rebuilt.TrimEnd('/'), configuredIssuer.TrimEnd('/'), StringComparison.Ordinal);
    }

    /// <summary>Whether <paramref name="issuer"/> is <paramref name="template"/> with a tenant GUID for <c>{tenantid}</c>.</summary>
    public static bool IssuerMatchesTemplate(string issuer, string template)
    {
        var at = template.IndexOf(EntraTenantPlaceholder, StringComparison.Ordinal);
        if (at < 0) return false;
        var suffix = template[(at + EntraTenantPlaceholder.Length)..];
        if (issuer.Length != template.Length - EntraTenantPlaceholder.Length + 36) return false;
        return issuer.StartsWith(template[..at], StringComparison.Ordinal) && issuer.EndsWith(suffix, StringComparison.Ordinal)
               && Guid.TryParseExact(issuer.AsSpan(at, 36), "D", out _);
    }

    /// <summary>An OIDC issuer or IdP endpoint: https, or http on loopback in Development; no fragment.</summary>
    public static Result<Uri, OidcFailure> CheckUrl(string value, string name, bool allowLoopbackHttp)
    {
        if (value.Length > 2048 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || value.Contains('#')
            || !string.IsNullOrEmpty(uri.UserInfo))
            return OidcFailure.Of(OidcFailureKind.DiscoveryMalformed, $"'{name}' is not an absolute URL without a fragment.");
        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            return OidcFailure.Of(OidcFailureKind.DiscoveryMalformed, $"'{name}' is not an https URL.");
        if (uri.Scheme == Uri.UriSchemeHttps) return uri;
        if (uri.Scheme == Uri.UriSchemeHttp && allowLoopbackHttp && OAuth.RedirectUriPolicy.IsLoopback(uri)) return uri;
        return new OidcFailure(OidcFailureKind.DiscoveryEndpointInsecure,
            $"'{name}' is '{value}'; it must use https (http only on loopback in Development).", "https", uri.Scheme);
    }

    private static string? ReadString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    private static HashSet<string>? ReadStrings(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array) return null;
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateArray())
            if (item.ValueKind == JsonValueKind.String && item.GetString() is { } text) set.Add(text);
        return set;
    }
}
