using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

/// <summary>
/// A SAML IdP for tests: keys are generated when the test run starts (nothing private is
/// committed); it builds Responses, signs the Response, the Assertion or both, encrypts the
/// assertion (AES-CBC or AES-GCM) and leaves mutation to the test.
/// </summary>
internal static class TestIdp
{
    public const string EntityId = "https://idp.example.test/metadata";
    public const string SpEntityId = "https://sso.example.test/saml/metadata/con_test";
    public const string AcsUrl = "https://sso.example.test/saml/acs/con_test";
    public const string RequestId = "_req_8f3a1c";
    public const string ResponseId = "_resp_5b2d90";
    public const string AssertionId = "_assert_c41e77";
    public const string Email = "alice@acme.test";

    public static readonly DateTimeOffset Now = new(2026, 3, 10, 9, 30, 0, TimeSpan.Zero);

    public static readonly X509Certificate2 SigningCertificate = CreateRsaCertificate("CN=Test IdP signing");
    public static readonly X509Certificate2 NextSigningCertificate = CreateRsaCertificate("CN=Test IdP signing (next)");
    public static readonly X509Certificate2 AttackerCertificate = CreateRsaCertificate("CN=Test IdP signing");
    public static readonly X509Certificate2 EcdsaSigningCertificate = CreateEcdsaCertificate("CN=Test IdP ECDSA signing");
    public static readonly X509Certificate2 SpEncryptionCertificate = CreateRsaCertificate("CN=Test SP encryption");
    public static readonly X509Certificate2 OtherSpEncryptionCertificate = CreateRsaCertificate("CN=Another SP encryption");

    /// <summary>The IdP side of the certificate only, as a connection stores it.</summary>
    public static X509Certificate2 PublicOnly(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadCertificate(certificate.RawData);

    public static SamlValidationParameters Parameters(params X509Certificate2[] idpCertificates) => new()
    {
        IdpCertificates = idpCertificates.Length == 0 ? [PublicOnly(SigningCertificate)] : idpCertificates.Select(PublicOnly).ToList(),
        IdpEntityId = EntityId,
        SpEntityId = SpEntityId,
        AcsUrl = AcsUrl,
        ExpectedInResponseTo = RequestId,
        Now = Now,
        DecryptionCertificates = [SpEncryptionCertificate],
    };

    public static XmlDocument Response(TestResponse? response = null) => Load((response ?? new TestResponse()).ToXml());

    public static XmlDocument Load(string xml)
    {
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        document.LoadXml(xml);
        return document;
    }

    public static XmlElement ResponseElement(XmlDocument document) => document.DocumentElement!;

    public static XmlElement AssertionElement(XmlDocument document) =>
        (XmlElement)document.GetElementsByTagName("Assertion", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!;

    public static XmlDocument SignAssertion(XmlDocument document, X509Certificate2? certificate = null,
        string signatureMethod = SamlAlgorithms.RsaSha256, string digestMethod = SamlAlgorithms.Sha256)
    {
        Sign(AssertionElement(document), certificate ?? SigningCertificate, signatureMethod, digestMethod);
        return document;
    }

    public static XmlDocument SignResponse(XmlDocument document, X509Certificate2? certificate = null,
        string signatureMethod = SamlAlgorithms.RsaSha256, string digestMethod = SamlAlgorithms.Sha256)
    {
        Sign(ResponseElement(document), certificate ?? SigningCertificate, signatureMethod, digestMethod);
        return document;
    }

    /// <summary>Signs an element the way IdPs do: enveloped, exclusive c14n, the Signature right after Issuer.</summary>
    public static void Sign(XmlElement element, X509Certificate2 certificate, string signatureMethod, string digestMethod,
        string canonicalization = SamlAlgorithms.ExclusiveC14n)
    {
        XmlSignatureAlgorithms.EnsureRegistered();
        var signedXml = new SignedXml(element)
        {
            SigningKey = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey(),
        };
        signedXml.SignedInfo!.SignatureMethod = signatureMethod;
        signedXml.SignedInfo.CanonicalizationMethod = canonicalization;
        var reference = new Reference("#" + element.GetAttribute("ID")) { DigestMethod = digestMethod };
        reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        reference.AddTransform(new XmlDsigExcC14NTransform());
        signedXml.AddReference(reference);
        var keyInfo = new KeyInfo();
        keyInfo.AddClause(new KeyInfoX509Data(certificate));
        signedXml.KeyInfo = keyInfo;
        signedXml.ComputeSignature();

        var signature = element.OwnerDocument.ImportNode(signedXml.GetXml(), deep: true);
        var issuer = element.ChildNodes.OfType<XmlElement>().FirstOrDefault(e => e.LocalName == "Issuer");
        if (issuer is null) element.PrependChild(signature);
        else element.InsertAfter(signature, issuer);
    }

    /// <summary>Replaces the Assertion with an EncryptedAssertion for <paramref name="recipient"/>.</summary>
    public static XmlDocument EncryptAssertion(XmlDocument document, TestCipher cipher = TestCipher.Aes256Gcm,
        X509Certificate2? recipient = null, string keyTransport = SamlAlgorithms.RsaOaepMgf1p, string? plaintextXml = null,
        bool encryptedKeyBesideData = false, string oaepDigest = SamlAlgorithms.Sha1)
    {
        var assertion = AssertionElement(document);
        var plaintext = Encoding.UTF8.GetBytes(plaintextXml ?? assertion.OuterXml);
        var keySize = cipher is TestCipher.Aes128Cbc or TestCipher.Aes128Gcm ? 16 : 32;
        var key = RandomNumberGenerator.GetBytes(keySize);
        byte[] cipherValue;
        string algorithm;
        if (cipher is TestCipher.Aes128Gcm or TestCipher.Aes256Gcm)
        {
            var nonce = RandomNumberGenerator.GetBytes(12);
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[16];
            using (var gcm = new AesGcm(key, 16)) gcm.Encrypt(nonce, plaintext, ciphertext, tag);
            cipherValue = [.. nonce, .. ciphertext, .. tag];
            algorithm = cipher == TestCipher.Aes128Gcm ? SamlAlgorithms.Aes128Gcm : SamlAlgorithms.Aes256Gcm;
        }
        else
        {
            using var aes = Aes.Create();
            aes.Key = key;
            var iv = RandomNumberGenerator.GetBytes(16);
            cipherValue = [.. iv, .. aes.EncryptCbc(plaintext, iv, PaddingMode.PKCS7)];
            algorithm = cipher == TestCipher.Aes128Cbc ? SamlAlgorithms.Aes128Cbc : SamlAlgorithms.Aes256Cbc;
        }

        using var rsa = (recipient ?? SpEncryptionCertificate).GetRSAPublicKey()!;
        var wrappedKey = keyTransport == SamlAlgorithms.RsaPkcs1V15
            ? rsa.Encrypt(key, RSAEncryptionPadding.Pkcs1)
            : rsa.Encrypt(key, oaepDigest == SamlAlgorithms.Sha256 ? RSAEncryptionPadding.OaepSHA256 : RSAEncryptionPadding.OaepSHA1);
        var mgf = keyTransport == SamlAlgorithms.RsaOaep && oaepDigest == SamlAlgorithms.Sha256
            ? $"<xenc11:MGF xmlns:xenc11=\"http://www.w3.org/2009/xmlenc11#\" Algorithm=\"{SamlAlgorithms.Mgf1Sha256}\"/>"
            : "";
        var encryptedKey = $"<xenc:EncryptedKey xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"><xenc:EncryptionMethod Algorithm=\"{keyTransport}\"><ds:DigestMethod xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Algorithm=\"{oaepDigest}\"/>{mgf}</xenc:EncryptionMethod><xenc:CipherData><xenc:CipherValue>{Convert.ToBase64String(wrappedKey)}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>";
        var keyInfo = encryptedKeyBesideData
            ? "<ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:RetrievalMethod Type=\"http://www.w3.org/2001/04/xmlenc#EncryptedKey\" URI=\"#_k1\"/></ds:KeyInfo>"
            : $"<ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">{encryptedKey}</ds:KeyInfo>";
        var besideData = encryptedKeyBesideData ? encryptedKey.Replace("<xenc:EncryptedKey ", "<xenc:EncryptedKey Id=\"_k1\" ") : "";

        var encrypted =
            "<saml:EncryptedAssertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">" +
            $"<xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" Type=\"http://www.w3.org/2001/04/xmlenc#Element\"><xenc:EncryptionMethod Algorithm=\"{algorithm}\"/>{keyInfo}" +
            $"<xenc:CipherData><xenc:CipherValue>{Convert.ToBase64String(cipherValue)}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>{besideData}</saml:EncryptedAssertion>";
        var fragment = document.CreateDocumentFragment();
        fragment.InnerXml = encrypted;
        assertion.ParentNode!.ReplaceChild(fragment, assertion);
        return document;
    }

    public static string ToBase64(XmlDocument document) => Convert.ToBase64String(Encoding.UTF8.GetBytes(document.OuterXml));

    public static XmlDocument Reparse(XmlDocument document) => Load(document.OuterXml);

    private static X509Certificate2 CreateRsaCertificate(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(Now.AddYears(-1), Now.AddYears(2));
    }

    private static X509Certificate2 CreateEcdsaCertificate(string subject)
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(Now.AddYears(-1), Now.AddYears(2));
    }
}

public enum TestCipher { Aes128Cbc, Aes256Cbc, Aes128Gcm, Aes256Gcm }

/// <summary>The facts of one test Response; each test changes what it is about.</summary>
internal sealed record TestResponse
{
    public string ResponseId { get; init; } = TestIdp.ResponseId;
    public string AssertionId { get; init; } = TestIdp.AssertionId;
    public string? ResponseIssuer { get; init; } = TestIdp.EntityId;
    public string? AssertionIssuer { get; init; } = TestIdp.EntityId;
    public string? Destination { get; init; } = TestIdp.AcsUrl;
    public string? InResponseTo { get; init; } = TestIdp.RequestId;
    public string? ConfirmationInResponseTo { get; init; } = TestIdp.RequestId;
    public string StatusCode { get; init; } = SamlUris.StatusSuccess;
    public string? NameIdXml { get; init; }
    public string NameId { get; init; } = TestIdp.Email;
    public string NameIdFormat { get; init; } = SamlUris.EmailNameIdFormat;
    public string ConfirmationMethod { get; init; } = SamlUris.BearerConfirmation;
    public string? Recipient { get; init; } = TestIdp.AcsUrl;
    public DateTimeOffset? ConfirmationNotOnOrAfter { get; init; } = TestIdp.Now.AddMinutes(5);
    public DateTimeOffset? NotBefore { get; init; } = TestIdp.Now.AddMinutes(-1);
    public DateTimeOffset? NotOnOrAfter { get; init; } = TestIdp.Now.AddMinutes(5);
    public string? Audience { get; init; } = TestIdp.SpEntityId;
    public DateTimeOffset? SessionNotOnOrAfter { get; init; } = TestIdp.Now.AddHours(8);
    public string SessionIndex { get; init; } = "_session_1";
    public string ExtraConditionsXml { get; init; } = "";
    public string AttributesXml { get; init; } =
        """<saml:Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"><saml:AttributeValue>alice@acme.test</saml:AttributeValue></saml:Attribute><saml:Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"><saml:AttributeValue>Alice</saml:AttributeValue></saml:Attribute><saml:Attribute Name="http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"><saml:AttributeValue>engineering</saml:AttributeValue><saml:AttributeValue>admins</saml:AttributeValue></saml:Attribute>""";

    public string ToXml()
    {
        static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        static string Attr(string name, string? value) => value is null ? "" : $" {name}=\"{System.Security.SecurityElement.Escape(value)}\"";
        static string TimeAttr(string name, DateTimeOffset? value) => value is null ? "" : Attr(name, Time(value.Value));

        var issuer = ResponseIssuer is null ? "" : $"<saml:Issuer>{ResponseIssuer}</saml:Issuer>";
        var assertionIssuer = AssertionIssuer is null ? "" : $"<saml:Issuer>{AssertionIssuer}</saml:Issuer>";
        var nameId = NameIdXml ?? System.Security.SecurityElement.Escape(NameId);
        var audience = Audience is null ? "" : $"<saml:AudienceRestriction><saml:Audience>{Audience}</saml:Audience></saml:AudienceRestriction>";
        return
            $"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{ResponseId}" Version="2.0" IssueInstant="{Time(TestIdp.Now)}"{Attr("Destination", Destination)}{Attr("InResponseTo", InResponseTo)}>""" +
            issuer +
            $"""<samlp:Status><samlp:StatusCode Value="{StatusCode}"/></samlp:Status>""" +
            $"""<saml:Assertion ID="{AssertionId}" Version="2.0" IssueInstant="{Time(TestIdp.Now)}">""" +
            assertionIssuer +
            $"""<saml:Subject><saml:NameID Format="{NameIdFormat}">{nameId}</saml:NameID>""" +
            $"""<saml:SubjectConfirmation Method="{ConfirmationMethod}"><saml:SubjectConfirmationData{Attr("InResponseTo", ConfirmationInResponseTo)}{TimeAttr("NotOnOrAfter", ConfirmationNotOnOrAfter)}{Attr("Recipient", Recipient)}/></saml:SubjectConfirmation></saml:Subject>""" +
            $"""<saml:Conditions{TimeAttr("NotBefore", NotBefore)}{TimeAttr("NotOnOrAfter", NotOnOrAfter)}>{audience}{ExtraConditionsXml}</saml:Conditions>""" +
            $"""<saml:AuthnStatement AuthnInstant="{Time(TestIdp.Now.AddSeconds(-5))}"{TimeAttr("SessionNotOnOrAfter", SessionNotOnOrAfter)} SessionIndex="{SessionIndex}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>""" +
            $"""<saml:AttributeStatement>{AttributesXml}</saml:AttributeStatement>""" +
            "</saml:Assertion></samlp:Response>";
    }
}
