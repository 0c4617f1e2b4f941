using System.Text.Json.Nodes;
using Sso.Functions.Connections;

namespace Sso.Functions.Oidc;

/// <summary>An OIDC connection's stored configuration (secret-free), as the sign-in reads it.</summary>
public sealed record OidcConnectionConfig(
    string Issuer,
    string ClientId,
    IReadOnlyList<string> Scopes,
    TimeSpan ClockSkew,
    IReadOnlyList<string> EntraTenantIds)
{
    public const string GoogleIssuer = "https://accounts.google.com";

    public bool IsGoogle => Issuer == GoogleIssuer;

    public static OidcConnectionConfig? From(Connection connection)
    {
        if (connection.Type != ConnectionTypes.Oidc) return null;
        if (connection.ConfigString("issuer") is not { } issuer || connection.ConfigString("clientId") is not { } clientId) return null;
        var skew = connection.Config["clockSkewSeconds"] is JsonValue v && v.TryGetValue<int>(out var seconds) ? seconds : OidcConnectionSetup.DefaultClockSkewSeconds;
        return new OidcConnectionConfig(issuer, clientId, Strings(connection.Config["scopes"]), TimeSpan.FromSeconds(skew),
            Strings(connection.Config["entraTenantIds"]));
    }

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
}
