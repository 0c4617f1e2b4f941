using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class AttributeMappingTests
{
    private static SamlAssertion Assertion(Dictionary<string, string[]> attributes, string nameId = "00u1abcd", string? format = SamlUris.PersistentNameIdFormat) => new()
    {
        Id = "_a",
        Issuer = SamlTestIdp.EntityId,
        NameId = nameId,
        NameIdFormat = format,
        NotOnOrAfter = SamlTestIdp.Now,
        ReplayCacheUntil = SamlTestIdp.Now,
        Attributes = attributes.ToDictionary(a => a.Key, a => (IReadOnlyList<string>)a.Value),
    };

    public static TheoryData<string, string, string, string, string> IdpDefaults => new()
    {
        { "Entra ID", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups" },
        { "Okta", "email", "firstName", "lastName", "groups" },
        { "Google Workspace", "email", "firstName", "lastName", "groups" },
        { "OneLogin", "User.email", "User.FirstName", "User.LastName", "memberOf" },
        { "JumpCloud", "email", "firstname", "lastname", "memberOf" },
    };

    [Theory]
    [MemberData(nameof(IdpDefaults))]
    public void Maps_the_attribute_names_each_IdP_sends(string idp, string email, string firstName, string lastName, string groups)
    {
        var profile = AttributeMapping.Map(Assertion(new()
        {
            [email] = ["alice@acme.test"],
            [firstName] = ["Alice"],
            [lastName] = ["Liddell"],
            [groups] = ["engineering", "admins", "engineering"],
        }));

        Assert.True(profile.Email == "alice@acme.test", idp);
        Assert.Equal("Alice", profile.FirstName);
        Assert.Equal("Liddell", profile.LastName);
        Assert.Equal(["engineering", "admins"], profile.Groups);
    }

    [Fact]
    public void Uses_only_the_overridden_attribute_name_when_one_is_configured()
    {
        var assertion = Assertion(new() { ["email"] = ["alice@acme.test"], ["workEmail"] = ["alice@work.test"], ["dept"] = ["sales"] });

        var profile = AttributeMapping.Map(assertion, new AttributeMappingOverrides { Email = "workEmail", Groups = "dept", FirstName = "nick" });

        Assert.Equal("alice@work.test", profile.Email);
        Assert.Equal(["sales"], profile.Groups);
        Assert.Null(profile.FirstName);
    }

    [Theory]
    [InlineData(SamlUris.EmailNameIdFormat, "alice@acme.test", "alice@acme.test")]
    [InlineData(SamlUris.UnspecifiedNameIdFormat, "alice@acme.test", "alice@acme.test")]
    [InlineData(SamlUris.PersistentNameIdFormat, "alice@acme.test", null)]
    [InlineData(SamlUris.EmailNameIdFormat, "not an address", null)]
    public void Falls_back_to_an_email_shaped_NameID_only_for_email_or_unspecified_formats(string format, string nameId, string? expected)
    {
        Assert.Equal(expected, AttributeMapping.Map(Assertion(new(), nameId, format)).Email);
    }

    [Fact]
    public void Prefers_an_email_attribute_over_the_NameID()
    {
        var profile = AttributeMapping.Map(Assertion(new() { ["email"] = ["alice@acme.test"] }, "a.liddell@old.test", SamlUris.EmailNameIdFormat));
        Assert.Equal("alice@acme.test", profile.Email);
    }
}
