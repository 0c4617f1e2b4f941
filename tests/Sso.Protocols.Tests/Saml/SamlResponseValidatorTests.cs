using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class SamlResponseValidatorTests
{
    private static Result<SamlAssertion, SamlFailure> Validate(XmlDocument document, SamlValidationParameters? parameters = null) =>
        SamlResponseValidator.Validate(TestIdp.ToBase64(document), parameters ?? TestIdp.Parameters());

    [Fact]
    public void Accepts_a_response_whose_assertion_is_signed()
    {
        var result = Validate(TestIdp.SignAssertion(TestIdp.Response()));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(TestIdp.AssertionId, result.Value.Id);
        Assert.Equal(TestIdp.Email, result.Value.NameId);
        Assert.Equal(SamlUris.EmailNameIdFormat, result.Value.NameIdFormat);
        Assert.Equal(TestIdp.EntityId, result.Value.Issuer);
        Assert.Equal("_session_1", result.Value.SessionIndex);
        Assert.Equal(["engineering", "admins"], result.Value.Attributes["http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"]);
    }

    [Fact]
    public void Accepts_a_response_signed_only_on_the_response()
    {
        var result = Validate(TestIdp.SignResponse(TestIdp.Response()));
        Assert.True(result.IsSuccess, result.ToString());
    }

    [Fact]
    public void Accepts_a_response_signed_on_both_the_assertion_and_the_response()
    {
        var result = Validate(TestIdp.SignResponse(TestIdp.SignAssertion(TestIdp.Response())));
        Assert.True(result.IsSuccess, result.ToString());
    }
}
