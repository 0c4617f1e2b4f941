using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class SamlResponseValidatorTests
{
    private static Result<SamlAssertion, SamlFailure> Validate(XmlDocument document, SamlValidationParameters? parameters = null) =>
        SamlResponseValidator.Validate(SamlTestIdp.ToBase64(document), parameters ?? SamlTestIdp.Parameters());

    private static Result<SamlAssertion, SamlFailure> ValidateSignedAssertion(TestResponse response, SamlValidationParameters? parameters = null) =>
        Validate(SamlTestIdp.SignAssertion(SamlTestIdp.Response(response)), parameters);

    private static SamlFailure AssertRejected(Result<SamlAssertion, SamlFailure> result, SamlFailureKind kind)
    {
        Assert.False(result.IsSuccess, "expected a rejection, got " + result);
        Assert.Equal(kind, result.Error.Kind);
        return result.Error;
    }

    [Fact]
    public void Accepts_a_response_whose_assertion_is_signed_and_reads_the_identity_from_it()
    {
        var result = Validate(SamlTestIdp.SignAssertion(SamlTestIdp.Response()));

        Assert.True(result.IsSuccess, result.ToString());
        var assertion = result.Value;
        Assert.Equal(SamlTestIdp.AssertionId, assertion.Id);
        Assert.Equal(SamlTestIdp.Email, assertion.NameId);
        Assert.Equal(SamlUris.EmailNameIdFormat, assertion.NameIdFormat);
        Assert.Equal(SamlTestIdp.EntityId, assertion.Issuer);
        Assert.Equal("_session_1", assertion.SessionIndex);
        Assert.Equal(SamlTestIdp.RequestId, assertion.InResponseTo);
        Assert.Equal(SamlTestIdp.Now.AddHours(8), assertion.SessionNotOnOrAfter);
        Assert.Equal(["alice@acme.test"], assertion.Attributes["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"]);
        Assert.Equal(["engineering", "admins"], assertion.Attributes["http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"]);
    }

    [Fact]
    public void Accepts_a_response_signed_only_on_the_response()
    {
        Assert.True(Validate(SamlTestIdp.SignResponse(SamlTestIdp.Response())).IsSuccess);
    }

    [Fact]
    public void Accepts_a_response_signed_on_both_the_assertion_and_the_response()
    {
        var result = Validate(SamlTestIdp.SignResponse(SamlTestIdp.SignAssertion(SamlTestIdp.Response())));
        Assert.True(result.IsSuccess, result.ToString());
    }

    [Fact]
    public void Keeps_the_assertion_id_in_the_replay_cache_until_the_earliest_limit_plus_skew()
    {
        var result = ValidateSignedAssertion(new TestResponse
        {
            ConfirmationNotOnOrAfter = SamlTestIdp.Now.AddMinutes(4),
            NotOnOrAfter = SamlTestIdp.Now.AddMinutes(10),
        });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(SamlTestIdp.Now.AddMinutes(4), result.Value.NotOnOrAfter);
        Assert.Equal(SamlTestIdp.Now.AddMinutes(7), result.Value.ReplayCacheUntil);
    }

    // Each row changes one fact of an otherwise valid, assertion-signed response.
    private static readonly Dictionary<string, (Func<TestResponse, TestResponse> Change, SamlFailureKind Kind)> Rejections = new()
    {
        ["status is Requester"] = (r => r with { StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Requester" }, SamlFailureKind.StatusNotSuccess),
        ["status is Responder"] = (r => r with { StatusCode = "urn:oasis:names:tc:SAML:2.0:status:Responder" }, SamlFailureKind.StatusNotSuccess),
        ["response issuer is another IdP"] = (r => r with { ResponseIssuer = "https://other-idp.example.test" }, SamlFailureKind.IssuerMismatch),
        ["assertion issuer is another IdP"] = (r => r with { AssertionIssuer = "https://other-idp.example.test" }, SamlFailureKind.IssuerMismatch),
        ["assertion issuer is missing"] = (r => r with { AssertionIssuer = null }, SamlFailureKind.IssuerMismatch),
        ["destination is another ACS"] = (r => r with { Destination = "https://sso.example.test/saml/acs/con_other" }, SamlFailureKind.DestinationMismatch),
        ["response InResponseTo is another request"] = (r => r with { InResponseTo = "_req_other" }, SamlFailureKind.InResponseToMismatch),
        ["confirmation InResponseTo is missing"] = (r => r with { ConfirmationInResponseTo = null }, SamlFailureKind.InResponseToMismatch),
        ["confirmation InResponseTo is another request"] = (r => r with { ConfirmationInResponseTo = "_req_other" }, SamlFailureKind.InResponseToMismatch),
        ["recipient is another ACS"] = (r => r with { Recipient = "https://sso.example.test/saml/acs/con_other" }, SamlFailureKind.RecipientMismatch),
        ["recipient is missing"] = (r => r with { Recipient = null }, SamlFailureKind.RecipientMismatch),
        ["only a holder-of-key confirmation"] = (r => r with { ConfirmationMethod = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key" }, SamlFailureKind.SubjectConfirmationMissing),
        ["confirmation has no NotOnOrAfter"] = (r => r with { ConfirmationNotOnOrAfter = null }, SamlFailureKind.SubjectConfirmationMissing),
        ["confirmation expired"] = (r => r with { ConfirmationNotOnOrAfter = SamlTestIdp.Now.AddMinutes(-10) }, SamlFailureKind.Expired),
        ["conditions expired"] = (r => r with { NotOnOrAfter = SamlTestIdp.Now.AddMinutes(-10) }, SamlFailureKind.Expired),
        ["conditions not yet valid"] = (r => r with { NotBefore = SamlTestIdp.Now.AddMinutes(10) }, SamlFailureKind.NotYetValid),
        ["audience is another SP"] = (r => r with { Audience = "https://another-sp.example.test" }, SamlFailureKind.AudienceMismatch),
        ["no audience restriction"] = (r => r with { Audience = null }, SamlFailureKind.AudienceMismatch),
        ["a second audience restriction excludes us"] = (r => r with
        {
            ExtraConditionsXml = "<saml:AudienceRestriction><saml:Audience>https://another-sp.example.test</saml:Audience></saml:AudienceRestriction>",
        }, SamlFailureKind.AudienceMismatch),
        ["an unknown condition"] = (r => r with { ExtraConditionsXml = "<saml:Condition xsi:type=\"x:Custom\" xmlns:x=\"urn:x\"/>" }, SamlFailureKind.UnexpectedStructure),
        ["IdP session already ended"] = (r => r with { SessionNotOnOrAfter = SamlTestIdp.Now.AddMinutes(-4) }, SamlFailureKind.SessionExpired),
        ["NameID carries an element"] = (r => r with { NameIdXml = "alice<x:b xmlns:x=\"urn:x\">@evil.test</x:b>" }, SamlFailureKind.UnexpectedStructure),
        ["NameID is empty"] = (r => r with { NameId = "" }, SamlFailureKind.UnexpectedStructure),
        ["attribute value carries an element"] = (r => r with
        {
            AttributesXml = "<saml:Attribute Name=\"email\"><saml:AttributeValue>a<x:b xmlns:x=\"urn:x\">b</x:b></saml:AttributeValue></saml:Attribute>",
        }, SamlFailureKind.UnexpectedStructure),
    };

    public static TheoryData<string> RejectionCases => [.. Rejections.Keys];

    [Theory]
    [MemberData(nameof(RejectionCases))]
    public void Rejects_a_response_that_breaks_one_rule(string rule)
    {
        var (change, kind) = Rejections[rule];

        var failure = AssertRejected(ValidateSignedAssertion(change(new TestResponse())), kind);

        Assert.DoesNotContain(SamlTestIdp.Email, failure.Message);
        Assert.DoesNotContain("<", failure.Message.Replace("<saml:", "").Replace("<samlp:", ""));
    }

    [Fact]
    public void Rejects_a_wrong_audience_naming_both_the_expected_and_the_actual_value()
    {
        var failure = AssertRejected(ValidateSignedAssertion(new TestResponse { Audience = "https://a.example" }), SamlFailureKind.AudienceMismatch);

        Assert.Equal(SamlTestIdp.SpEntityId, failure.Expected);
        Assert.Equal("https://a.example", failure.Actual);
        Assert.Contains("https://a.example", failure.Message);
    }

    [Fact]
    public void Reports_the_status_of_an_unsigned_error_response_without_an_assertion()
    {
        var xml = $"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_e" Version="2.0" IssueInstant="2026-03-10T09:30:00Z" InResponseTo="{SamlTestIdp.RequestId}"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoPassive"/></samlp:StatusCode><samlp:StatusMessage>User is not assigned to this application</samlp:StatusMessage></samlp:Status></samlp:Response>""";

        var failure = AssertRejected(Validate(SamlTestIdp.Load(xml)), SamlFailureKind.StatusNotSuccess);

        Assert.Equal("urn:oasis:names:tc:SAML:2.0:status:Responder / urn:oasis:names:tc:SAML:2.0:status:NoPassive", failure.Actual);
        Assert.Contains("not assigned", failure.Message);
    }

    [Fact]
    public void Accepts_a_response_without_destination_when_only_the_assertion_is_signed()
    {
        Assert.True(ValidateSignedAssertion(new TestResponse { Destination = null }).IsSuccess);
    }

    [Fact]
    public void Rejects_a_signed_response_without_destination()
    {
        AssertRejected(Validate(SamlTestIdp.SignResponse(SamlTestIdp.Response(new TestResponse { Destination = null }))), SamlFailureKind.DestinationMismatch);
    }

    [Fact]
    public void Accepts_a_response_without_issuer_when_only_the_assertion_is_signed()
    {
        Assert.True(ValidateSignedAssertion(new TestResponse { ResponseIssuer = null }).IsSuccess);
    }

    [Fact]
    public void Rejects_a_signed_response_without_issuer()
    {
        AssertRejected(Validate(SamlTestIdp.SignResponse(SamlTestIdp.Response(new TestResponse { ResponseIssuer = null }))), SamlFailureKind.IssuerMismatch);
    }

    [Fact]
    public void Accepts_an_assertion_with_a_second_bearer_confirmation_that_passes()
    {
        var document = SamlTestIdp.Response(new TestResponse { Recipient = "https://old-acs.example.test" });
        var subject = (XmlElement)document.GetElementsByTagName("Subject", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!;
        var good = SamlTestIdp.Load(SamlTestIdp.Response().OuterXml).GetElementsByTagName("SubjectConfirmation", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!;
        subject.AppendChild(document.ImportNode(good, true));

        Assert.True(Validate(SamlTestIdp.SignAssertion(document)).IsSuccess);
    }

    [Fact]
    public void Accepts_a_solicited_response_that_names_the_request_only_in_the_signed_confirmation()
    {
        Assert.True(ValidateSignedAssertion(new TestResponse { InResponseTo = null }).IsSuccess);
    }

    [Fact]
    public void Rejects_an_assertion_issued_in_the_future_beyond_the_skew()
    {
        var document = SamlTestIdp.Response();
        SamlTestIdp.AssertionElement(document).SetAttribute("IssueInstant", "2026-03-10T09:33:01Z");
        AssertRejected(Validate(SamlTestIdp.SignAssertion(document)), SamlFailureKind.NotYetValid);

        var withinSkew = SamlTestIdp.Response();
        SamlTestIdp.AssertionElement(withinSkew).SetAttribute("IssueInstant", "2026-03-10T09:33:00Z");
        Assert.True(Validate(SamlTestIdp.SignAssertion(withinSkew)).IsSuccess);
    }

    [Fact]
    public void Rejects_an_unsolicited_response_when_idp_initiated_sign_in_is_off()
    {
        var response = new TestResponse { InResponseTo = null, ConfirmationInResponseTo = null };
        AssertRejected(ValidateSignedAssertion(response, SamlTestIdp.Parameters() with { ExpectedInResponseTo = null }),
            SamlFailureKind.UnsolicitedResponse);
    }

    [Fact]
    public void Accepts_an_unsolicited_response_when_idp_initiated_sign_in_is_on()
    {
        var response = new TestResponse { InResponseTo = null, ConfirmationInResponseTo = null };
        var result = ValidateSignedAssertion(response, SamlTestIdp.Parameters() with { ExpectedInResponseTo = null, AllowIdpInitiated = true });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Null(result.Value.InResponseTo);
    }

    [Fact]
    public void Rejects_a_response_to_some_request_when_none_is_pending_even_with_idp_initiated_on()
    {
        AssertRejected(ValidateSignedAssertion(new TestResponse(), SamlTestIdp.Parameters() with { ExpectedInResponseTo = null, AllowIdpInitiated = true }),
            SamlFailureKind.InResponseToMismatch);
    }

    public static TheoryData<string, int, bool> NotOnOrAfterBoundaries => new()
    {
        // seconds after NotOnOrAfter (the default skew is 180 s)
        { "well inside the window", -60, true },
        { "expired but inside the skew", 179, true },
        { "exactly at the end of the skew", 180, false },
        { "beyond the skew", 181, false },
    };

    [Theory]
    [MemberData(nameof(NotOnOrAfterBoundaries))]
    public void Applies_the_clock_skew_to_conditions_NotOnOrAfter(string because, int secondsAfter, bool accepted)
    {
        var limit = SamlTestIdp.Now.AddSeconds(-secondsAfter);
        var result = ValidateSignedAssertion(new TestResponse { NotOnOrAfter = limit, NotBefore = limit.AddMinutes(-10) });

        Assert.True(accepted == result.IsSuccess, $"{because}: {result}");
        if (!accepted) Assert.Equal(SamlFailureKind.Expired, result.Error.Kind);
    }

    [Theory]
    [MemberData(nameof(NotOnOrAfterBoundaries))]
    public void Applies_the_clock_skew_to_the_bearer_confirmation_NotOnOrAfter(string because, int secondsAfter, bool accepted)
    {
        var result = ValidateSignedAssertion(new TestResponse { ConfirmationNotOnOrAfter = SamlTestIdp.Now.AddSeconds(-secondsAfter) });

        Assert.True(accepted == result.IsSuccess, $"{because}: {result}");
        if (!accepted) Assert.Equal(SamlFailureKind.Expired, result.Error.Kind);
    }

    public static TheoryData<string, int, bool> NotBeforeBoundaries => new()
    {
        // seconds until NotBefore
        { "already valid", -60, true },
        { "early but inside the skew", 179, true },
        { "exactly at the skew", 180, true },
        { "beyond the skew", 181, false },
    };

    [Theory]
    [MemberData(nameof(NotBeforeBoundaries))]
    public void Applies_the_clock_skew_to_conditions_NotBefore(string because, int secondsUntil, bool accepted)
    {
        var result = ValidateSignedAssertion(new TestResponse { NotBefore = SamlTestIdp.Now.AddSeconds(secondsUntil) });

        Assert.True(accepted == result.IsSuccess, $"{because}: {result}");
        if (!accepted) Assert.Equal(SamlFailureKind.NotYetValid, result.Error.Kind);
    }

    [Fact]
    public void Uses_the_connection_clock_skew_instead_of_the_default()
    {
        var response = new TestResponse { NotOnOrAfter = SamlTestIdp.Now.AddSeconds(-30) };

        Assert.True(ValidateSignedAssertion(response).IsSuccess);
        AssertRejected(ValidateSignedAssertion(response, SamlTestIdp.Parameters() with { ClockSkew = TimeSpan.FromSeconds(10) }), SamlFailureKind.Expired);
    }

    [Fact]
    public void Reads_the_whole_NameID_when_a_comment_splits_it()
    {
        var result = ValidateSignedAssertion(new TestResponse { NameIdXml = "user@evil.com<!---->.acme.test" });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("user@evil.com.acme.test", result.Value.NameId);
    }

    [Fact]
    public void Reads_the_whole_attribute_value_when_a_comment_splits_it()
    {
        var result = ValidateSignedAssertion(new TestResponse
        {
            AttributesXml = "<saml:Attribute Name=\"email\"><saml:AttributeValue>user@evil.com<!-- x -->.acme.test</saml:AttributeValue></saml:Attribute>" +
                            "<saml:Attribute Name=\"groups\"><saml:AttributeValue>adm<!---->ins-not</saml:AttributeValue><saml:AttributeValue><![CDATA[a]]>b</saml:AttributeValue></saml:Attribute>",
        });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["user@evil.com.acme.test"], result.Value.Attributes["email"]);
        Assert.Equal(["admins-not", "ab"], result.Value.Attributes["groups"]);
    }

    [Fact]
    public void Rejects_a_NameID_changed_by_removing_a_comment_after_signing()
    {
        // Exclusive c14n drops comments, so the signature covers the joined text; moving text around it does not verify.
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response(new TestResponse { NameIdXml = "user@evil.com<!---->.acme.test" }));
        var nameId = document.GetElementsByTagName("NameID", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!;
        nameId.RemoveChild(nameId.LastChild!);

        AssertRejected(Validate(document), SamlFailureKind.SignatureInvalid);
    }

    [Fact]
    public void Merges_repeated_attributes_and_skips_nil_values()
    {
        var result = ValidateSignedAssertion(new TestResponse
        {
            AttributesXml = "<saml:Attribute Name=\"groups\"><saml:AttributeValue>a</saml:AttributeValue><saml:AttributeValue xsi:nil=\"true\"/></saml:Attribute>" +
                            "<saml:Attribute Name=\"groups\"><saml:AttributeValue xsi:type=\"xs:string\">b</saml:AttributeValue></saml:Attribute>",
        });

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["a", "b"], result.Value.Attributes["groups"]);
    }

    [Fact]
    public void Rejects_a_response_whose_version_is_not_2_0()
    {
        var document = SamlTestIdp.Response();
        SamlTestIdp.ResponseElement(document).SetAttribute("Version", "1.1");

        AssertRejected(Validate(SamlTestIdp.SignAssertion(document)), SamlFailureKind.UnexpectedStructure);
    }

    [Fact]
    public void Rejects_a_document_that_is_not_a_Response()
    {
        var xml = """<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a" Version="2.0"/>""";
        AssertRejected(Validate(SamlTestIdp.Load(xml)), SamlFailureKind.UnexpectedStructure);
    }

    [Fact]
    public void Rejects_a_time_that_is_not_UTC()
    {
        var document = SamlTestIdp.Response();
        var conditions = (XmlElement)document.GetElementsByTagName("Conditions", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!;
        conditions.SetAttribute("NotOnOrAfter", "2026-03-10T09:35:00");

        AssertRejected(Validate(SamlTestIdp.SignAssertion(document)), SamlFailureKind.UnexpectedStructure);
    }
}

public class SamlAssertionShapeTests
{
    private const string Saml = "urn:oasis:names:tc:SAML:2.0:assertion";

    public static TheoryData<string> Changes => ["generic Statement", "Conditions after AuthnStatement", "second Subject", "foreign element"];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Reports_an_assertion_child_out_of_schema_order_or_not_understood(string change)
    {
        var document = SamlTestIdp.Response();
        var assertion = SamlTestIdp.AssertionElement(document);
        XmlElement Child(string name) => assertion.ChildNodes.OfType<XmlElement>().First(e => e.LocalName == name);
        switch (change)
        {
            case "generic Statement":
                assertion.AppendChild(document.CreateElement("saml", "Statement", Saml));
                break;
            case "Conditions after AuthnStatement":
                var conditions = Child("Conditions");
                assertion.RemoveChild(conditions);
                assertion.InsertAfter(conditions, Child("AuthnStatement"));
                break;
            case "second Subject":
                assertion.InsertAfter(Child("Subject").CloneNode(true), Child("Subject"));
                break;
            default:
                assertion.AppendChild(document.CreateElement("x", "Extra", "urn:example:x"));
                break;
        }

        var result = SamlResponseValidator.Validate(SamlTestIdp.ToBase64(SamlTestIdp.SignAssertion(document)), SamlTestIdp.Parameters());

        Assert.Equal(SamlFailureKind.UnexpectedStructure, result.Error.Kind);
    }
}

public class SamlFailureTextTests
{
    [Fact]
    public void Shortens_and_strips_control_characters_from_values_taken_from_the_message()
    {
        var audience = "https://a.example/\r\nX-Injected: 1" + new string('a', 5000);
        var response = new TestResponse { Audience = System.Security.SecurityElement.Escape(audience) };

        var failure = SamlResponseValidator.Validate(SamlTestIdp.ToBase64(SamlTestIdp.SignAssertion(SamlTestIdp.Response(response))), SamlTestIdp.Parameters()).Error;

        Assert.Equal(SamlFailureKind.AudienceMismatch, failure.Kind);
        Assert.DoesNotContain('\n', failure.Message);
        Assert.DoesNotContain('\r', failure.Actual!);
        Assert.True(failure.Message.Length < 600, failure.Message.Length.ToString());
    }

    [Theory]
    [InlineData("""<?xml version="1.0" encoding="bogus-charset"?><r/>""")]
    [InlineData("""<?xml version="1.0" encoding="utf-7"?><r/>""")]
    [InlineData("""<?xml version="2.0"?><r/>""")]
    [InlineData("\uFEFF\uFEFF<r/>")]
    [InlineData("<r xmlns:a=\"\"><a:b/></r>")]
    [InlineData("<r><![CDATA[</r>")]
    public void Reports_odd_xml_as_a_failure_not_an_exception(string xml)
    {
        var result = SamlResponseValidator.Validate(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(xml)), SamlTestIdp.Parameters());
        Assert.False(result.IsSuccess);
    }
}
