using Sso.Functions.Tenants;

namespace Sso.Functions.Tests.Tenants;

public class DomainNameTests
{
    [Theory]
    [InlineData("Acme.COM", "acme.com")]
    [InlineData("acme.test.", "acme.test")]
    [InlineData(" sub.acme.io ", "sub.acme.io")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("a-b.co.uk", "a-b.co.uk")]
    public void Normalizes_a_valid_domain(string input, string expected)
    {
        Assert.Equal(expected, DomainName.Normalize(input).Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("localhost")]
    [InlineData("-acme.com")]
    [InlineData("acme-.com")]
    [InlineData("ac me.com")]
    [InlineData("ac_me.com")]
    [InlineData("bob@acme.com")]
    [InlineData("10.0.0.1")]
    [InlineData("acme..com")]
    public void Refuses_an_invalid_domain(string input)
    {
        Assert.False(DomainName.Normalize(input).IsSuccess);
    }

    [Theory]
    [InlineData("Jane.Doe@Acme.Test", "acme.test")]
    [InlineData("jane@sub.acme.test", "sub.acme.test")]
    [InlineData("no-at-sign", null)]
    [InlineData("trailing@", null)]
    public void Finds_the_domain_of_an_email(string email, string? expected)
    {
        Assert.Equal(expected, DomainName.OfEmail(email));
    }
}
