using System.Text.Json.Nodes;

namespace Sso.Functions.OAuth;

/// <summary>
/// Who the IdP vouched for, after the SAML or OIDC leg has verified the answer. The sign-in
/// policy and the authorization code are built from this alone.
/// </summary>
public sealed record VerifiedIdentity
{
    /// <summary>The user's identifier at the IdP (SAML NameID, OIDC <c>sub</c>).</summary>
    public required string Subject { get; init; }

    /// <summary>The IdP's entity ID or issuer.</summary>
    public required string Issuer { get; init; }

    public string? Email { get; init; }
    public bool EmailVerified { get; init; }
    public string? GivenName { get; init; }
    public string? FamilyName { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>The IdP's attributes or claims as received (userinfo shows them under <c>idp</c>).</summary>
    public JsonObject RawAttributes { get; init; } = new();

    public DateTimeOffset? AuthenticatedAt { get; init; }

    /// <summary>SAML only: how the IdP names this session, kept for Single Logout.</summary>
    public SamlSessionReference? SamlSession { get; init; }

    // Personal data; records print only the issuer.
    public override string ToString() => $"VerifiedIdentity {{ Issuer = {Issuer} }}";
}

/// <summary>The assertion's NameID (with its Format) and the AuthnStatement's SessionIndex.</summary>
public sealed record SamlSessionReference(string NameId, string? NameIdFormat, string? SessionIndex)
{
    public override string ToString() => "SamlSessionReference";
}
