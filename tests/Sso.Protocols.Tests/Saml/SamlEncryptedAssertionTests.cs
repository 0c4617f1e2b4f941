using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class SamlEncryptedAssertionTests
{
    private const string XmlEnc = "http://www.w3.org/2001/04/xmlenc#";

    private static Result<SamlAssertion, SamlFailure> Validate(XmlDocument document, SamlValidationParameters? parameters = null) =>
        SamlResponseValidator.Validate(SamlTestIdp.ToBase64(document), parameters ?? SamlTestIdp.Parameters());

    public static TheoryData<TestCipher> Ciphers =>
        [TestCipher.Aes128Cbc, TestCipher.Aes256Cbc, TestCipher.Aes128Gcm, TestCipher.Aes256Gcm];

    public static TheoryData<TestCipher> GcmCiphers => [TestCipher.Aes128Gcm, TestCipher.Aes256Gcm];

    public static TheoryData<TestCipher> CbcCiphers => [TestCipher.Aes128Cbc, TestCipher.Aes256Cbc];

    /// <summary>A connection that lists every algorithm, CBC included (its 'encryptionAlgorithms').</summary>
    private static SamlValidationParameters AllowingCbc() => SamlTestIdp.Parameters() with
    {
        AllowedEncryptionAlgorithms = [SamlAlgorithms.Aes128Gcm, SamlAlgorithms.Aes256Gcm, SamlAlgorithms.Aes128Cbc, SamlAlgorithms.Aes256Cbc],
    };

    [Theory]
    [MemberData(nameof(GcmCiphers))]
    public void Accepts_an_encrypted_assertion_that_is_signed_inside(TestCipher cipher)
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), cipher);

        var result = Validate(document);

        Assert.True(result.IsSuccess, $"{cipher}: {result}");
        Assert.Equal(SamlTestIdp.Email, result.Value.NameId);
        Assert.Equal(["engineering", "admins"], result.Value.Attributes["http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"]);
    }

    [Theory]
    [MemberData(nameof(Ciphers))]
    public void Accepts_an_encrypted_assertion_covered_by_the_response_signature(TestCipher cipher)
    {
        var document = SamlTestIdp.SignResponse(SamlTestIdp.EncryptAssertion(SamlTestIdp.Response(), cipher));

        var result = Validate(document, AllowingCbc());

        Assert.True(result.IsSuccess, $"{cipher}: {result}");
        Assert.Equal(SamlTestIdp.Email, result.Value.NameId);
    }

    [Fact]
    public void Accepts_an_encrypted_signed_assertion_inside_a_signed_response()
    {
        var document = SamlTestIdp.SignResponse(SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response())));
        Assert.True(Validate(document).IsSuccess);
    }

    [Fact]
    public void Finds_an_EncryptedKey_placed_beside_the_EncryptedData()
    {
        // Shibboleth's layout: KeyInfo holds a RetrievalMethod, the EncryptedKey is a sibling.
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), encryptedKeyBesideData: true);
        Assert.True(Validate(document).IsSuccess);
    }

    [Fact]
    public void Accepts_XML_Encryption_1_1_RSA_OAEP_with_SHA256_and_MGF1_SHA256()
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()),
            keyTransport: SamlAlgorithms.RsaOaep, oaepDigest: SamlAlgorithms.Sha256);
        Assert.True(Validate(document).IsSuccess);
    }

    [Fact]
    public void Reports_RSA_OAEP_with_a_digest_and_mask_function_that_differ()
    {
        // rsa-oaep-mgf1p always means MGF1 with SHA-1; with a SHA-256 digest .NET cannot unwrap it.
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()),
            keyTransport: SamlAlgorithms.RsaOaepMgf1p, oaepDigest: SamlAlgorithms.Sha256);
        Assert.Equal(SamlFailureKind.UnsupportedAlgorithm, Validate(document).Error.Kind);
    }

    [Fact]
    public void Rejects_an_encrypted_assertion_that_nobody_signed()
    {
        // Anyone with the SP's public encryption certificate can encrypt an assertion.
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.Response());
        Assert.Equal(SamlFailureKind.SignatureMissing, Validate(document).Error.Kind);
    }

    [Fact]
    public void Rejects_an_encrypted_assertion_changed_after_it_was_signed()
    {
        var signed = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var plaintext = SamlTestIdp.AssertionElement(signed).OuterXml.Replace(SamlTestIdp.Email, "mallory@evil.test");
        var document = SamlTestIdp.EncryptAssertion(signed, plaintextXml: plaintext);

        Assert.Equal(SamlFailureKind.SignatureInvalid, Validate(document).Error.Kind);
    }

    [Fact]
    public void Rejects_an_assertion_encrypted_for_another_service_provider()
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), recipient: SamlTestIdp.OtherSpEncryptionCertificate);
        Assert.Equal(SamlFailureKind.DecryptionFailed, Validate(document).Error.Kind);
    }

    [Fact]
    public void Decrypts_with_either_sp_certificate_during_rollover()
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), recipient: SamlTestIdp.SpEncryptionCertificate);
        var parameters = SamlTestIdp.Parameters() with
        {
            DecryptionCertificates = [SamlTestIdp.OtherSpEncryptionCertificate, SamlTestIdp.SpEncryptionCertificate],
        };
        Assert.True(Validate(document, parameters).IsSuccess);
    }

    [Fact]
    public void Rejects_an_encrypted_assertion_when_the_connection_has_no_decryption_key()
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()));
        Assert.Equal(SamlFailureKind.DecryptionFailed, Validate(document, SamlTestIdp.Parameters() with { DecryptionCertificates = [] }).Error.Kind);
    }

    [Fact]
    public void Refuses_RSA_PKCS1_v1_5_key_transport()
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), keyTransport: SamlAlgorithms.RsaPkcs1V15);
        Assert.Equal(SamlFailureKind.WeakAlgorithm, Validate(document).Error.Kind);
    }

    [Fact]
    public void Refuses_triple_DES_content_encryption()
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes128Cbc);
        var method = (XmlElement)document.GetElementsByTagName("EncryptionMethod", XmlEnc)[0]!;
        method.SetAttribute("Algorithm", SamlAlgorithms.TripleDesCbc);
        Assert.Equal(SamlFailureKind.UnsupportedAlgorithm, Validate(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_GCM_ciphertext_whose_tag_does_not_verify()
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes256Gcm);
        var values = document.GetElementsByTagName("CipherValue", XmlEnc);
        var data = (XmlElement)values[values.Count - 1]!;
        var bytes = Convert.FromBase64String(data.InnerText);
        bytes[20] ^= 0x01;
        data.InnerText = Convert.ToBase64String(bytes);

        Assert.Equal(SamlFailureKind.DecryptionFailed, Validate(document).Error.Kind);
    }

    [Theory]
    [MemberData(nameof(CbcCiphers))]
    public void Refuses_CBC_that_no_response_signature_covers_even_when_the_connection_lists_it(TestCipher cipher)
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), cipher);

        var failure = Validate(document, AllowingCbc()).Error;

        Assert.Equal(SamlFailureKind.WeakAlgorithm, failure.Kind);
        Assert.Contains("AES-GCM", failure.Message);
    }

    [Theory]
    [MemberData(nameof(CbcCiphers))]
    public void Refuses_CBC_under_a_signed_response_when_the_connection_does_not_list_it(TestCipher cipher)
    {
        var document = SamlTestIdp.SignResponse(SamlTestIdp.EncryptAssertion(SamlTestIdp.Response(), cipher));

        Assert.Equal(SamlFailureKind.UnsupportedAlgorithm, Validate(document).Error.Kind);
    }

    [Fact]
    public void Refuses_GCM_ciphertext_relabelled_as_CBC_before_decrypting_it()
    {
        // The "One Bad Apple" downgrade: the attacker rewrites the EncryptionMethod of a genuine
        // GCM assertion to CBC and watches how the padding fails, one byte at a time.
        var genuine = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes256Gcm);
        var method = (XmlElement)genuine.GetElementsByTagName("EncryptionMethod", XmlEnc)[0]!;
        method.SetAttribute("Algorithm", SamlAlgorithms.Aes256Cbc);

        Assert.Equal(SamlFailureKind.UnsupportedAlgorithm, Validate(genuine).Error.Kind);
        Assert.Equal(SamlFailureKind.WeakAlgorithm, Validate(genuine, AllowingCbc()).Error.Kind);
    }

    [Fact]
    public void Gives_one_answer_for_every_unauthenticated_CBC_response_whatever_its_plaintext()
    {
        // Damaged ciphertext, plaintext that does not parse, plaintext that parses but was altered,
        // an unsigned assertion: refused alike before decryption, so nothing leaks about the plaintext.
        var damaged = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes256Cbc);
        var values = damaged.GetElementsByTagName("CipherValue", XmlEnc);
        var data = (XmlElement)values[values.Count - 1]!;
        var bytes = Convert.FromBase64String(data.InnerText);
        bytes[^1] ^= 0xFF;
        data.InnerText = Convert.ToBase64String(bytes);
        var garbage = SamlTestIdp.EncryptAssertion(SamlTestIdp.Response(), TestCipher.Aes256Cbc, plaintextXml: "<saml:Assertion <<");
        var signed = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var altered = SamlTestIdp.AssertionElement(signed).OuterXml.Replace(SamlTestIdp.Email, "mallory@evil.test");
        var parsedButWrong = SamlTestIdp.EncryptAssertion(signed, TestCipher.Aes256Cbc, plaintextXml: altered);
        var unsigned = SamlTestIdp.EncryptAssertion(SamlTestIdp.Response(), TestCipher.Aes256Cbc);

        var expected = Validate(garbage, AllowingCbc()).Error;
        Assert.Equal(SamlFailureKind.WeakAlgorithm, expected.Kind);
        Assert.Equal(expected, Validate(damaged, AllowingCbc()).Error);
        Assert.Equal(expected, Validate(parsedButWrong, AllowingCbc()).Error);
        Assert.Equal(expected, Validate(unsigned, AllowingCbc()).Error);
    }

    [Fact]
    public void Tells_exactly_why_when_the_ciphertext_is_authenticated_or_the_response_signed()
    {
        var signed = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var altered = SamlTestIdp.AssertionElement(signed).OuterXml.Replace(SamlTestIdp.Email, "mallory@evil.test");

        Assert.Equal(SamlFailureKind.SignatureInvalid,
            Validate(SamlTestIdp.EncryptAssertion(SamlTestIdp.Reparse(signed), TestCipher.Aes256Gcm, plaintextXml: altered)).Error.Kind);
        Assert.Equal(SamlFailureKind.SignatureInvalid,
            Validate(SamlTestIdp.SignResponse(SamlTestIdp.EncryptAssertion(SamlTestIdp.Reparse(signed), TestCipher.Aes256Cbc, plaintextXml: altered)),
                AllowingCbc()).Error.Kind);
    }

    [Fact]
    public void Rejects_a_CipherReference_instead_of_fetching_it()
    {
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes256Gcm);
        var values = document.GetElementsByTagName("CipherData", XmlEnc);
        var cipherData = (XmlElement)values[values.Count - 1]!;
        cipherData.InnerXml = $"<xenc:CipherReference xmlns:xenc=\"{XmlEnc}\" URI=\"http://169.254.169.254/latest/meta-data\"/>";

        Assert.Equal(SamlFailureKind.UnexpectedStructure, Validate(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_decrypted_assertion_that_wraps_another_assertion()
    {
        var inner = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        var genuine = SamlTestIdp.AssertionElement(inner).OuterXml;
        var evil = SamlTestIdp.Response(new TestResponse { AssertionId = "_evil", NameId = "mallory@evil.test" });
        var evilAssertion = SamlTestIdp.AssertionElement(evil).OuterXml;
        var wrapped = evilAssertion.Replace("</saml:Assertion>", "<saml:Advice>" + genuine + "</saml:Advice></saml:Assertion>");
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.Response(), plaintextXml: wrapped);

        Assert.Equal(SamlFailureKind.UnexpectedStructure, Validate(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_decrypted_assertion_whose_ID_repeats_the_response_ID()
    {
        var plaintext = SamlTestIdp.AssertionElement(SamlTestIdp.Response()).OuterXml
            .Replace($"ID=\"{SamlTestIdp.AssertionId}\"", $"ID=\"{SamlTestIdp.ResponseId}\"");
        var document = SamlTestIdp.SignResponse(SamlTestIdp.EncryptAssertion(SamlTestIdp.Response(), plaintextXml: plaintext));

        Assert.Equal(SamlFailureKind.DuplicateId, Validate(document).Error.Kind);
    }

    [Fact]
    public void Rejects_a_DTD_inside_the_encrypted_content()
    {
        var plaintext = """<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">&x;</saml:Assertion>""";
        var document = SamlTestIdp.EncryptAssertion(SamlTestIdp.Response(), plaintextXml: plaintext);

        Assert.Equal(SamlFailureKind.DecryptionFailed, Validate(document).Error.Kind);
    }

    [Fact]
    public void Reads_a_decrypted_assertion_whose_namespaces_are_declared_on_the_response()
    {
        // Some IdPs encrypt the assertion as it sits in the Response, relying on the Response's
        // xmlns:saml; exclusive c14n gives the same bytes either way, so its signature holds.
        var signed = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        const string declaration = " xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"";
        var outer = SamlTestIdp.AssertionElement(signed).OuterXml;
        var index = outer.IndexOf(declaration, StringComparison.Ordinal);
        Assert.True(index > 0 && index < outer.IndexOf('>'));
        var plaintext = outer.Remove(index, declaration.Length);
        Assert.Throws<XmlException>(() => SamlTestIdp.Load(plaintext));

        var result = Validate(SamlTestIdp.EncryptAssertion(signed, plaintextXml: plaintext));
        Assert.True(result.IsSuccess, result.ToString());
    }
}
