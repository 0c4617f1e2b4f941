using System.Security.Cryptography.X509Certificates;
using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class SamlSignatureVerifierTests
{
    private const string Saml = "urn:oasis:names:tc:SAML:2.0:assertion";
    private const string Samlp = "urn:oasis:names:tc:SAML:2.0:protocol";
    private const string Ds = "http://www.w3.org/2000/09/xmldsig#";
    private const string Evil = "mallory@evil.test";

    private static SamlTrust Trust(params X509Certificate2[] certificates) => new()
    {
        IdpCertificates = certificates.Length == 0 ? [SamlTestIdp.PublicOnly(SamlTestIdp.SigningCertificate)] : certificates.Select(SamlTestIdp.PublicOnly).ToList(),
        DecryptionCertificates = [SamlTestIdp.SpEncryptionCertificate],
    };

    /// <summary>Serialises and re-reads the document as the ACS would, so mutations are judged from the bytes.</summary>
    private static Result<VerifiedSamlResponse, SamlFailure> Verify(XmlDocument document, SamlTrust? trust = null)
    {
        var read = SamlResponseReader.Read(SamlTestIdp.ToBase64(document));
        Assert.True(read.IsSuccess, read.ToString());
        return SamlSignatureVerifier.Verify(read.Value, trust ?? Trust());
    }

    private static Result<SamlAssertion, SamlFailure> Validate(XmlDocument document) =>
        SamlResponseValidator.Validate(SamlTestIdp.ToBase64(document), SamlTestIdp.Parameters());

    private static XmlElement Child(XmlElement parent, string ns, string name) =>
        parent.ChildNodes.OfType<XmlElement>().Single(e => e.LocalName == name && e.NamespaceURI == ns);

    private static XmlElement Assertion(XmlDocument document) => Child(document.DocumentElement!, Saml, "Assertion");

    private static void MakeEvil(XmlElement assertion, string? newId = "_evil")
    {
        if (newId is not null) assertion.SetAttribute("ID", newId);
        var nameId = (XmlElement)assertion.GetElementsByTagName("NameID", Saml)[0]!;
        nameId.InnerText = Evil;
    }

    private static XmlElement WithoutSignature(XmlElement element)
    {
        var copy = (XmlElement)element.CloneNode(deep: true);
        foreach (var signature in copy.ChildNodes.OfType<XmlElement>().Where(e => e.LocalName == "Signature").ToList())
            copy.RemoveChild(signature);
        return copy;
    }

    [Fact]
    public void Returns_the_signed_assertion_as_the_verified_element()
    {
        var result = Verify(SamlTestIdp.SignAssertion(SamlTestIdp.Response()));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(result.Value.AssertionSigned);
        Assert.False(result.Value.ResponseSigned);
        Assert.Equal(SamlTestIdp.AssertionId, result.Value.Assertion.GetAttribute("ID"));
    }

    [Fact]
    public void Leaves_the_document_as_it_was_KeyInfo_included_and_verifies_the_same_document_again()
    {
        // The verifier sets each signature's KeyInfo aside while SignedXml loads it, then puts it back.
        var read = SamlResponseReader.Read(SamlTestIdp.ToBase64(SamlTestIdp.SignResponse(SamlTestIdp.SignAssertion(SamlTestIdp.Response()))));
        Assert.True(read.IsSuccess, read.ToString());
        var before = read.Value.OuterXml;
        Assert.Equal(2, read.Value.GetElementsByTagName("KeyInfo", Ds).Count);

        var first = SamlSignatureVerifier.Verify(read.Value, Trust());
        Assert.True(first.IsSuccess, first.ToString());
        Assert.Equal(before, read.Value.OuterXml);

        var again = SamlSignatureVerifier.Verify(read.Value, Trust());
        Assert.True(again.IsSuccess, again.ToString());
        Assert.True(again.Value.ResponseSigned && again.Value.AssertionSigned);
    }

    [Fact]
    public void Verifies_signatures_side_by_side_with_the_keys_of_one_certificate_object()
    {
        // Every verification of a connection uses one certificate object, whose imported key is lent to one verification at a time.
        var trust = Trust();
        var documents = Enumerable.Range(0, 64).Select(_ => SamlTestIdp.SignAssertion(SamlTestIdp.Response())).ToList();
        var results = documents.AsParallel().WithDegreeOfParallelism(8).Select(d => Verify(d, trust).IsSuccess).ToList();
        Assert.All(results, Assert.True);

        var tampered = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        MakeEvil(Assertion(tampered), newId: null);
        Assert.Equal(SamlFailureKind.SignatureInvalid, Verify(tampered, trust).Error.Kind);
    }

    [Fact]
    public void Covers_the_assertion_by_the_response_signature_when_only_the_response_is_signed()
    {
        var result = Verify(SamlTestIdp.SignResponse(SamlTestIdp.Response()));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(result.Value.ResponseSigned);
        Assert.False(result.Value.AssertionSigned);
        Assert.Same(result.Value.Assertion.ParentNode, result.Value.Response);
    }

    [Fact]
    public void Rejects_a_response_where_nothing_is_signed()
    {
        var result = Verify(SamlTestIdp.Response());
        Assert.Equal(SamlFailureKind.SignatureMissing, result.Error.Kind);
    }

    [Fact]
    public void Rejects_an_assertion_changed_after_it_was_signed()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        MakeEvil(Assertion(document), newId: null);

        Assert.Equal(SamlFailureKind.SignatureInvalid, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_response_changed_after_it_was_signed()
    {
        var document = SamlTestIdp.SignResponse(SamlTestIdp.Response());
        MakeEvil(Assertion(document), newId: null);

        Assert.Equal(SamlFailureKind.SignatureInvalid, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_valid_response_signature_when_the_assertion_signature_inside_is_broken()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var value = (XmlElement)Assertion(document).GetElementsByTagName("SignatureValue", Ds)[0]!;
        value.InnerText = Convert.ToBase64String(new byte[256]);
        SamlTestIdp.SignResponse(document);

        Assert.Equal(SamlFailureKind.SignatureInvalid, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_message_signed_by_an_unknown_key_that_carries_its_own_certificate()
    {
        // Same subject name as the real IdP certificate; only the configured certificate counts.
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response(), SamlTestIdp.AttackerCertificate);

        var failure = Verify(document).Error;

        Assert.Equal(SamlFailureKind.UntrustedCertificate, failure.Kind);
        Assert.Equal(SamlTestIdp.AttackerCertificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), failure.Actual);
    }

    [Fact]
    public void Verifies_with_the_configured_certificate_whatever_the_KeyInfo_says()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var certificate = (XmlElement)document.GetElementsByTagName("X509Certificate", Ds)[0]!;
        certificate.InnerText = Convert.ToBase64String(SamlTestIdp.AttackerCertificate.RawData);

        // KeyInfo is outside SignedInfo, so swapping it changes nothing that is verified.
        Assert.True(Verify(document).IsSuccess);
        // ...and a configured list without the real key refuses it even though the KeyInfo names one.
        Assert.False(Verify(document, Trust(SamlTestIdp.AttackerCertificate)).IsSuccess);
    }

    public static TheoryData<string> RolloverCases => ["current", "next"];

    [Theory]
    [MemberData(nameof(RolloverCases))]
    public void Accepts_a_signature_by_either_configured_certificate_during_rollover(string signer)
    {
        var certificate = signer == "current" ? SamlTestIdp.SigningCertificate : SamlTestIdp.NextSigningCertificate;
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response(), certificate);

        Assert.True(Verify(document, Trust(SamlTestIdp.SigningCertificate, SamlTestIdp.NextSigningCertificate)).IsSuccess);
    }

    [Fact]
    public void Rejects_a_signature_by_a_certificate_removed_after_rollover()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response(), SamlTestIdp.SigningCertificate);
        Assert.Equal(SamlFailureKind.UntrustedCertificate, Verify(document, Trust(SamlTestIdp.NextSigningCertificate)).Error.Kind);
    }

    public static TheoryData<string, string, string> StrongAlgorithms => new()
    {
        { "RSA-SHA256", SamlAlgorithms.RsaSha256, SamlAlgorithms.Sha256 },
        { "RSA-SHA384", SamlAlgorithms.RsaSha384, SamlAlgorithms.Sha384 },
        { "RSA-SHA512", SamlAlgorithms.RsaSha512, SamlAlgorithms.Sha512 },
        { "ECDSA-SHA256", SamlAlgorithms.EcdsaSha256, SamlAlgorithms.Sha256 },
        { "ECDSA-SHA384", SamlAlgorithms.EcdsaSha384, SamlAlgorithms.Sha384 },
        { "ECDSA-SHA512", SamlAlgorithms.EcdsaSha512, SamlAlgorithms.Sha512 },
    };

    [Theory]
    [MemberData(nameof(StrongAlgorithms))]
    public void Accepts_allow_listed_signature_algorithms(string name, string signatureMethod, string digestMethod)
    {
        var ecdsa = name.StartsWith("ECDSA", StringComparison.Ordinal);
        var certificate = ecdsa ? SamlTestIdp.EcdsaSigningCertificate : SamlTestIdp.SigningCertificate;
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response(), certificate, signatureMethod, digestMethod);

        var result = Verify(document, Trust(SamlTestIdp.SigningCertificate, SamlTestIdp.EcdsaSigningCertificate));
        Assert.True(result.IsSuccess, $"{name}: {result}");
    }

    [Fact]
    public void Rejects_an_ECDSA_signature_that_was_tampered_with()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response(), SamlTestIdp.EcdsaSigningCertificate, SamlAlgorithms.EcdsaSha256);
        MakeEvil(Assertion(document), newId: null);

        Assert.Equal(SamlFailureKind.SignatureInvalid, Verify(document, Trust(SamlTestIdp.EcdsaSigningCertificate)).Error.Kind);
    }

    public static TheoryData<string, string, string> Sha1Cases => new()
    {
        { "RSA-SHA1 with SHA-1 digest", SamlAlgorithms.RsaSha1, SamlAlgorithms.Sha1 },
        { "RSA-SHA1 with SHA-256 digest", SamlAlgorithms.RsaSha1, SamlAlgorithms.Sha256 },
        { "RSA-SHA256 with SHA-1 digest", SamlAlgorithms.RsaSha256, SamlAlgorithms.Sha1 },
    };

    [Theory]
    [MemberData(nameof(Sha1Cases))]
    public void Refuses_SHA1_unless_the_connection_allows_it(string name, string signatureMethod, string digestMethod)
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response(), signatureMethod: signatureMethod, digestMethod: digestMethod);

        Assert.Equal(SamlFailureKind.WeakAlgorithm, Verify(document).Error.Kind);
        Assert.True(Verify(document, Trust() with { AllowSha1 = true }).IsSuccess, name);
    }

    [Fact]
    public void Accepts_exclusive_canonicalization_with_comments()
    {
        var document = SamlTestIdp.Response();
        SamlTestIdp.Sign(Assertion(document), SamlTestIdp.SigningCertificate, SamlAlgorithms.RsaSha256, SamlAlgorithms.Sha256,
            SamlAlgorithms.ExclusiveC14nWithComments);
        Assert.True(Verify(document).IsSuccess);
    }

    [Fact]
    public void Rejects_inclusive_canonicalization()
    {
        var document = SamlTestIdp.Response();
        SamlTestIdp.Sign(Assertion(document), SamlTestIdp.SigningCertificate, SamlAlgorithms.RsaSha256, SamlAlgorithms.Sha256,
            "http://www.w3.org/TR/2001/REC-xml-c14n-20010315");
        Assert.Equal(SamlFailureKind.UnsupportedAlgorithm, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_transform_outside_the_allow_list()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var transform = (XmlElement)document.GetElementsByTagName("Transform", Ds)[1]!;
        transform.SetAttribute("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116");

        Assert.Equal(SamlFailureKind.UnsupportedAlgorithm, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_an_HMAC_signature_method()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var method = (XmlElement)document.GetElementsByTagName("SignatureMethod", Ds)[0]!;
        method.SetAttribute("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1");

        Assert.Equal(SamlFailureKind.UnsupportedAlgorithm, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_signature_with_two_references()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var reference = document.GetElementsByTagName("Reference", Ds)[0]!;
        reference.ParentNode!.AppendChild(reference.CloneNode(true));

        Assert.Equal(SamlFailureKind.UnexpectedStructure, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_response_signature_that_references_the_assertion()
    {
        // A genuine assertion signature lifted up to the Response: it still verifies the
        // assertion, but a signature must reference the element it sits in.
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var signature = Child(Assertion(document), Ds, "Signature");
        Assertion(document).RemoveChild(signature);
        document.DocumentElement!.InsertAfter(signature, Child(document.DocumentElement!, Saml, "Issuer"));

        Assert.Equal(SamlFailureKind.SignatureInvalid, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_an_assertion_whose_signature_was_moved_into_another_element()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var assertion = Assertion(document);
        var signature = Child(assertion, Ds, "Signature");
        assertion.RemoveChild(signature);
        Child(assertion, Saml, "Subject").AppendChild(signature);

        Assert.Equal(SamlFailureKind.UnexpectedStructure, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_signature_that_carries_an_Object()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var signature = Child(Assertion(document), Ds, "Signature");
        signature.AppendChild(document.CreateElement("ds", "Object", Ds));

        Assert.Equal(SamlFailureKind.UnexpectedStructure, Verify(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_duplicate_ID_on_a_cloned_assertion()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var evil = WithoutSignature(Assertion(document));
        MakeEvil(evil, newId: null);
        document.DocumentElement!.InsertBefore(evil, Assertion(document));

        var failure = Verify(document).Error;
        Assert.True(failure.Kind is SamlFailureKind.DuplicateId or SamlFailureKind.UnexpectedStructure, failure.ToString());
    }

    [Fact]
    public void Rejects_a_duplicate_ID_anywhere_in_the_document()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var extensions = document.CreateElement("samlp", "Extensions", Samlp);
        var marker = document.CreateElement("x", "Marker", "urn:example:x");
        marker.SetAttribute("ID", SamlTestIdp.AssertionId);
        extensions.AppendChild(marker);
        document.DocumentElement!.InsertAfter(extensions, Child(document.DocumentElement!, Saml, "Issuer"));

        Assert.Equal(SamlFailureKind.DuplicateId, Verify(document).Error.Kind);
    }

    [Fact]
    public void Resolves_references_only_through_the_ID_attribute()
    {
        var document = SamlTestIdp.Load("""<r><a Id="_x"/><b id="_x"/><c ID="_y"/></r>""");
        var target = (XmlElement)document.DocumentElement!.ChildNodes[2]!;
        var signedXml = StrictIdSignedXml.Create(target);

        Assert.Null(signedXml.GetIdElement(document, "_x"));
        Assert.Same(target, signedXml.GetIdElement(document, "_y"));
        Assert.Null(StrictIdSignedXml.Create((XmlElement)document.DocumentElement!.ChildNodes[0]!).GetIdElement(document, "_y"));
    }

    // Signature wrapping (Somorovsky et al., "On Breaking SAML", 2012; SAML Raider's XSW1–8):
    // each takes a freshly signed response and hides the genuine signed part while an evil
    // copy sits where a careless SP reads.
    private static readonly Dictionary<string, Func<XmlDocument>> WrappingAttacks = new()
    {
        ["XSW1 signed response copied into its own Signature, root altered"] = () =>
        {
            var document = SamlTestIdp.SignResponse(SamlTestIdp.Response());
            var root = document.DocumentElement!;
            var original = WithoutSignature(root);
            Child(root, Ds, "Signature").AppendChild(original);
            root.SetAttribute("ID", "_evil_response");
            MakeEvil(Assertion(document), newId: "_evil_assertion");
            return document;
        },
        ["XSW2 signed response copied beside its Signature, root altered"] = () =>
        {
            var document = SamlTestIdp.SignResponse(SamlTestIdp.Response());
            var root = document.DocumentElement!;
            var original = WithoutSignature(root);
            root.InsertBefore(original, Child(root, Ds, "Signature"));
            root.SetAttribute("ID", "_evil_response");
            MakeEvil(Assertion(document), newId: "_evil_assertion");
            return document;
        },
        ["XSW3 evil assertion inserted before the signed one"] = () =>
        {
            var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
            var evil = WithoutSignature(Assertion(document));
            MakeEvil(evil);
            document.DocumentElement!.InsertBefore(evil, Assertion(document));
            return document;
        },
        ["XSW4 signed assertion wrapped inside an evil assertion"] = () =>
        {
            var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
            var original = Assertion(document);
            var evil = WithoutSignature(original);
            MakeEvil(evil);
            document.DocumentElement!.ReplaceChild(evil, original);
            evil.AppendChild(original);
            return document;
        },
        ["XSW5 signature kept on the altered assertion, unsigned original appended"] = () =>
        {
            var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
            var original = Assertion(document);
            var copy = WithoutSignature(original);
            MakeEvil(original);
            document.DocumentElement!.AppendChild(copy);
            return document;
        },
        ["XSW6 original assertion hidden inside the altered assertion's Signature"] = () =>
        {
            var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
            var original = Assertion(document);
            var copy = WithoutSignature(original);
            MakeEvil(original);
            Child(original, Ds, "Signature").AppendChild(copy);
            return document;
        },
        ["XSW7 signed assertion moved into Extensions, evil assertion in its place"] = () =>
        {
            var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
            var root = document.DocumentElement!;
            var original = Assertion(document);
            var evil = WithoutSignature(original);
            MakeEvil(evil);
            root.ReplaceChild(evil, original);
            var extensions = document.CreateElement("samlp", "Extensions", Samlp);
            extensions.AppendChild(original);
            root.InsertAfter(extensions, Child(root, Saml, "Issuer"));
            return document;
        },
        ["XSW8 original assertion inside an Object of the altered assertion's Signature"] = () =>
        {
            var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
            var original = Assertion(document);
            var copy = WithoutSignature(original);
            MakeEvil(original);
            var dsObject = document.CreateElement("ds", "Object", Ds);
            dsObject.AppendChild(copy);
            Child(original, Ds, "Signature").AppendChild(dsObject);
            return document;
        },
        ["evil unsigned assertion with a different ID beside a signed response"] = () =>
        {
            var document = SamlTestIdp.SignResponse(SamlTestIdp.Response());
            var evil = WithoutSignature(Assertion(document));
            MakeEvil(evil);
            document.DocumentElement!.AppendChild(evil);
            return document;
        },
        ["signed response wrapped inside an evil response's Extensions"] = () =>
        {
            var signed = SamlTestIdp.SignResponse(SamlTestIdp.Response());
            var document = SamlTestIdp.Response(new TestResponse { ResponseId = "_outer", AssertionId = "_outer_assertion", NameId = Evil });
            var extensions = document.CreateElement("samlp", "Extensions", Samlp);
            extensions.AppendChild(document.ImportNode(signed.DocumentElement!, true));
            document.DocumentElement!.InsertAfter(extensions, Child(document.DocumentElement!, Saml, "Issuer"));
            return document;
        },
    };

    public static TheoryData<string> WrappingCases => [.. WrappingAttacks.Keys];

    [Theory]
    [MemberData(nameof(WrappingCases))]
    public void Rejects_signature_wrapping(string attack)
    {
        var document = WrappingAttacks[attack]();

        var verified = Verify(document);
        var validated = Validate(document);

        Assert.False(verified.IsSuccess, $"{attack} was accepted");
        Assert.False(validated.IsSuccess);
        Assert.True(verified.Error.Kind is SamlFailureKind.UnexpectedStructure or SamlFailureKind.DuplicateId or SamlFailureKind.SignatureInvalid,
            verified.Error.ToString());
    }
}

public class SamlSignatureVerifierShapeTests
{
    private const string Ds = "http://www.w3.org/2000/09/xmldsig#";

    private static SamlFailureKind Kind(XmlDocument document) =>
        SamlSignatureVerifier.Verify(SamlResponseReader.Read(SamlTestIdp.ToBase64(document)).Value,
            new SamlTrust { IdpCertificates = [SamlTestIdp.PublicOnly(SamlTestIdp.SigningCertificate)] }).Error.Kind;

    [Fact]
    public void Rejects_a_response_signature_placed_after_the_Status()
    {
        var document = SamlTestIdp.SignResponse(SamlTestIdp.Response());
        var root = document.DocumentElement!;
        var signature = root.GetElementsByTagName("Signature", Ds)[0]!;
        root.RemoveChild(signature);
        root.InsertAfter(signature, root.GetElementsByTagName("Status", "urn:oasis:names:tc:SAML:2.0:protocol")[0]!);

        Assert.Equal(SamlFailureKind.UnexpectedStructure, Kind(document));
    }

    [Fact]
    public void Rejects_an_assertion_with_two_signatures()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var signature = SamlTestIdp.AssertionElement(document).GetElementsByTagName("Signature", Ds)[0]!;
        signature.ParentNode!.InsertAfter(signature.CloneNode(true), signature);

        Assert.Equal(SamlFailureKind.UnexpectedStructure, Kind(document));
    }

    [Theory]
    [InlineData("")]
    [InlineData("#xpointer(/)")]
    [InlineData("#xpointer(id('_assert_c41e77'))")]
    public void Rejects_a_reference_that_is_not_the_signed_elements_own_ID(string uri)
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        ((XmlElement)document.GetElementsByTagName("Reference", Ds)[0]!).SetAttribute("URI", uri);

        Assert.Equal(SamlFailureKind.SignatureInvalid, Kind(document));
    }

    [Fact]
    public void Rejects_a_document_with_a_DTD_even_when_not_read_by_the_reader()
    {
        var document = new XmlDocument { XmlResolver = null };
        document.LoadXml("<!DOCTYPE r [<!ENTITY a \"b\">]>" + SamlTestIdp.Response().OuterXml);

        var result = SamlSignatureVerifier.Verify(document, new SamlTrust { IdpCertificates = [SamlTestIdp.SigningCertificate] });
        Assert.Equal(SamlFailureKind.DtdProhibited, result.Error.Kind);
    }

    [Fact]
    public void Rejects_everything_when_the_connection_has_no_certificate()
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var result = SamlSignatureVerifier.Verify(SamlResponseReader.Read(SamlTestIdp.ToBase64(document)).Value, new SamlTrust { IdpCertificates = [] });
        Assert.Equal(SamlFailureKind.UntrustedCertificate, result.Error.Kind);
    }
}
