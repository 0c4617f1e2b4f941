using System.Text.Json.Nodes;
using Sso.Functions.Connections;

namespace Sso.Functions.Oidc;

/// <summary>An OIDC connection's stored configuration (secret-free), as the sign-in reads it.</summary>
public sealed record OidcConnectionConfig(
    string Issuer,
    string ClientId,
    IReadOnlyList<string> Scopes,
    TimeSpan ClockSkew,
    IReadOnlyList<string> EntraTenantIds,
    string? DiscoveredIssuer = null,
    string? GoogleHostedDomain = null,
    bool AllowUnverifiedEmail = false)
{
    /// <summary>Accept an id_token whose <c>email_verified</c> is absent or false (IdPs that never send it, such as Entra ID).</summary>
    public const string AllowUnverifiedEmailSetting = "allowUnverifiedEmail";

    public const string GoogleIssuer = "https://accounts.google.com";

    public bool IsGoogle => Issuer == GoogleIssuer;

    /// <summary>
    /// The Entra tenants whose <c>tid</c> an id_token may carry: the listed <c>entraTenantIds</c>,
    /// else the tenant a single-tenant Entra issuer names (<c>https://login.microsoftonline.com/&lt;tid&gt;/v2.0</c>,
    /// <c>https://sts.windows.net/&lt;tid&gt;/</c>); empty for other IdPs.
    /// </summary>
    public IReadOnlyList<string> ExpectedEntraTenantIds =>
        EntraTenantIds.Count > 0 ? EntraTenantIds
        : EntraTenantOf(DiscoveredIssuer ?? Issuer) is { } tid ? [tid]
        : [];

    /// <summary>The tenant GUID of an Entra-shaped issuer: <c>/&lt;guid&gt;/v2.0</c>, or <c>sts.windows.net/&lt;guid&gt;/</c>.</summary>
    public static string? EntraTenantOf(string issuer)
    {
        if (!Uri.TryCreate(issuer, UriKind.Absolute, out var uri)) return null;
        var segments = uri.AbsolutePath.Trim('/').Split('/');
        var entraShaped = segments is [_, "v2.0"] || (uri.Host == "sts.windows.net" && segments.Length == 1);
        return entraShaped && Guid.TryParseExact(segments[0], "D", out var tid) ? tid.ToString("D") : null;
    }

    public static OidcConnectionConfig? From(Connection connection)
    {
        if (connection.Type != ConnectionTypes.Oidc) return null;
        if (connection.ConfigString("issuer") is not { } issuer || connection.ConfigString("clientId") is not { } clientId) return null;
        var skew = connection.Config["clockSkewSeconds"] is JsonValue v && v.TryGetValue<int>(out var seconds) ? seconds : OidcConnectionSetup.DefaultClockSkewSeconds;
        return new OidcConnectionConfig(issuer, clientId, Strings(connection.Config["scopes"]), TimeSpan.FromSeconds(skew),
            Strings(connection.Config["entraTenantIds"]), connection.ConfigString("discoveredIssuer"),
            connection.ConfigString(GoogleHostedDomainSetting), connection.ConfigBool(AllowUnverifiedEmailSetting));
    }

    public const string GoogleHostedDomainSetting = "googleHostedDomain";

    /// <summary>The domains a Google id_token's <c>hd</c> must be one of; null when hd is not checked.</summary>
    public IReadOnlyCollection<string>? RequiredHostedDomains(IReadOnlyCollection<string> tenantDomains) =>
        GoogleHostedDomain is { } hostedDomain ? [hostedDomain]
        : IsGoogle ? tenantDomains
        : null;

    private static IReadOnlyList<string> Strings(JsonNode? node) =>
        node is JsonArray array
            ? array.Select(n => n is JsonValue value && value.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList()
            : [];
}

/// <summary>The <c>error_description</c> codes the OIDC leg adds to <see cref="OAuth.SignInRefusals"/>.</summary>
public static class OidcRefusals
{
    /// <summary>The IdP answered the authorization request with an error (e.g. the user cancelled).</summary>
    public const string IdpError = "idp_error";

    /// <summary>The IdP's discovery, JWKS or token endpoint did not answer in time, or answered garbage.</summary>
    public const string IdpUnavailable = "idp_unavailable";

    /// <summary>
    /// The id_token is genuine but from another organisation at the IdP: an Entra <c>tid</c> that is not the
    /// connection's tenant, or a Google <c>hd</c> that is not its Workspace domain.
    /// </summary>
    public const string IdpTenantMismatch = "idp_tenant_mismatch";

    /// <summary>The IdP did not vouch for the address (<c>email_verified</c> absent or false) and the connection does not set allowUnverifiedEmail.</summary>
    public const string EmailNotVerified = "email_not_verified";
}
