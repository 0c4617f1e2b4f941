using System.Net.Mail;

namespace Sso.Protocols.Saml;

/// <summary>The profile fields this service needs from an assertion.</summary>
public sealed record SamlProfile(string? Email, string? FirstName, string? LastName, IReadOnlyList<string> Groups);

/// <summary>Per-connection attribute names; a name set here replaces the built-in list for that field.</summary>
public sealed record AttributeMappingOverrides
{
    public string? Email { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Groups { get; init; }
}

/// <summary>
/// Maps attribute names that IdPs send by default (or that their setup guides tell admins to
/// type) to email, first name, last name and groups. Lists are tried in order; the first
/// attribute present with a non-empty value wins.
/// </summary>
public static class AttributeMapping
{
    public static readonly IReadOnlyList<string> EmailAttributes =
    [
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", // Entra ID, ADFS
        "email",                                                              // Okta, Google Workspace, JumpCloud guides
        "User.email",                                                         // OneLogin
        "urn:oid:0.9.2342.19200300.100.1.3",                                  // mail (Shibboleth, eduPerson)
        "mail",
        "emailAddress",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",         // Entra ID: the UPN, often the address
    ];

    public static readonly IReadOnlyList<string> FirstNameAttributes =
    [
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",    // Entra ID, ADFS
        "firstName",                                                          // Okta, Google Workspace guides
        "User.FirstName",                                                     // OneLogin
        "firstname",                                                          // JumpCloud
        "given_name",
        "givenName",
        "urn:oid:2.5.4.42",
    ];

    public static readonly IReadOnlyList<string> LastNameAttributes =
    [
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",      // Entra ID, ADFS
        "lastName",                                                           // Okta, Google Workspace guides
        "User.LastName",                                                      // OneLogin
        "lastname",                                                           // JumpCloud
        "family_name",
        "surname",
        "sn",
        "urn:oid:2.5.4.4",
    ];

    public static readonly IReadOnlyList<string> GroupAttributes =
    [
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",     // Entra ID (object IDs unless configured otherwise)
        "groups",                                                             // Okta, Google Workspace guides
        "memberOf",                                                           // JumpCloud, OneLogin
        "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",                                   // isMemberOf (eduPerson)
    ];

    public static SamlProfile Map(SamlAssertion assertion, AttributeMappingOverrides? overrides = null)
    {
        var email = First(assertion, overrides?.Email, EmailAttributes) ?? EmailFromNameId(assertion);
        var groups = Names(overrides?.Groups, GroupAttributes)
            .Select(name => assertion.Attributes.TryGetValue(name, out var values) ? values : null)
            .FirstOrDefault(values => values is { Count: > 0 }) ?? [];
        return new SamlProfile(
            email,
            First(assertion, overrides?.FirstName, FirstNameAttributes),
            First(assertion, overrides?.LastName, LastNameAttributes),
            groups.Select(g => g.Trim()).Where(g => g.Length > 0).Distinct(StringComparer.Ordinal).ToList());
    }

    private static IEnumerable<string> Names(string? overridden, IReadOnlyList<string> builtIn) =>
        overridden is { Length: > 0 } ? [overridden] : builtIn;

    private static string? First(SamlAssertion assertion, string? overridden, IReadOnlyList<string> builtIn)
    {
        foreach (var name in Names(overridden, builtIn))
            if (assertion.Attributes.TryGetValue(name, out var values)
                && values.Select(v => v.Trim()).FirstOrDefault(v => v.Length > 0) is { } value)
                return value;
        return null;
    }

    // Okta and Google Workspace send the address as the NameID (emailAddress or unspecified)
    // and often no email attribute at all.
    private static string? EmailFromNameId(SamlAssertion assertion)
    {
        if (assertion.NameIdFormat is not (null or SamlUris.EmailNameIdFormat or SamlUris.UnspecifiedNameIdFormat)) return null;
        return MailAddress.TryCreate(assertion.NameId, out var address) && address.Address == assertion.NameId
            ? assertion.NameId
            : null;
    }
}
