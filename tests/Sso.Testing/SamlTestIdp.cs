using System.IO.Compression;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Security.Cryptography;
using System.Security;
using System.Text;
using System.Web;
using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Testing;

/// <summary>
/// The SAML IdP of the tests: keys generated when the test run starts (nothing private is
/// committed). An instance signs Responses for the HTTP tests, built for a given AuthnRequest and
/// signed (assertion, response or both) the way IdPs do. The static members serve the protocol
/// tests: fixed facts at a fixed instant (<see cref="Now"/>), Responses from a
/// <see cref="TestResponse"/>, signing with any algorithm, encryption (AES-CBC or AES-GCM), and
/// mutation left to the test.
/// </summary>
public sealed class SamlTestIdp
{
    public const string EntityId = "https://idp.example.test/metadata";
    public const string SsoUrl = "https://idp.example.test/sso";

    public X509Certificate2 Certificate { get; } = CreateCertificate("CN=Functions test IdP");

    public static X509Certificate2 CreateCertificate(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddYears(-1), DateTimeOffset.UtcNow.AddYears(2));
    }

    public string CertificatePem => Certificate.ExportCertificatePem();

    public string MetadataXml(string ssoBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect") =>
        $"""
        <md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{EntityId}">
          <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
            <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{Convert.ToBase64String(Certificate.RawData)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
            <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
            <md:SingleSignOnService Binding="{ssoBinding}" Location="{SsoUrl}"/>
          </md:IDPSSODescriptor>
        </md:EntityDescriptor>
        """;

    /// <summary>The AuthnRequest ID and RelayState from the redirect the service sent the browser to.</summary>
    public static (string RequestId, string? RelayState, XmlDocument Request) ReadRedirect(Uri location)
    {
        var query = HttpUtility.ParseQueryString(location.Query);
        using var input = new MemoryStream(Convert.FromBase64String(query["SAMLRequest"]!));
        using var inflater = new DeflateStream(input, CompressionMode.Decompress);
        using var reader = new StreamReader(inflater, Encoding.UTF8);
        var document = new XmlDocument { XmlResolver = null };
        document.LoadXml(reader.ReadToEnd());
        return (document.DocumentElement!.GetAttribute("ID"), query["RelayState"], document);
    }

    public sealed record Assertion
    {
        public required string AcsUrl { get; init; }
        public required string SpEntityId { get; init; }
        public string? InResponseTo { get; init; }
        public required DateTimeOffset Now { get; init; }
        public string Email { get; init; } = "alice@acme.test";
        public string AssertionId { get; init; } = "_a" + Guid.NewGuid().ToString("N");
        public string[] Groups { get; init; } = ["engineering"];

        /// <summary>When the IdP says the user authenticated; five seconds before <see cref="Now"/> unless set.</summary>
        public DateTimeOffset? AuthnInstant { get; init; }
        public string Issuer { get; init; } = EntityId;
    }

    public string SignedResponse(Assertion a, bool signResponse = false, X509Certificate2? signWith = null)
    {
        static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        static string E(string s) => SecurityElement.Escape(s);
        var inResponseTo = a.InResponseTo is null ? "" : $" InResponseTo=\"{E(a.InResponseTo)}\"";
        var groups = string.Concat(a.Groups.Select(g => $"<saml:AttributeValue>{E(g)}</saml:AttributeValue>"));
        var xml =
            $"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r{Guid.NewGuid():N}" Version="2.0" IssueInstant="{Time(a.Now)}" Destination="{E(a.AcsUrl)}"{inResponseTo}>""" +
            $"""<saml:Issuer>{E(a.Issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>""" +
            $"""<saml:Assertion ID="{a.AssertionId}" Version="2.0" IssueInstant="{Time(a.Now)}"><saml:Issuer>{E(a.Issuer)}</saml:Issuer>""" +
            $"""<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{E(a.Email)}</saml:NameID>""" +
            $"""<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData{inResponseTo} NotOnOrAfter="{Time(a.Now.AddMinutes(5))}" Recipient="{E(a.AcsUrl)}"/></saml:SubjectConfirmation></saml:Subject>""" +
            $"""<saml:Conditions NotBefore="{Time(a.Now.AddMinutes(-1))}" NotOnOrAfter="{Time(a.Now.AddMinutes(5))}"><saml:AudienceRestriction><saml:Audience>{E(a.SpEntityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>""" +
            $"""<saml:AuthnStatement AuthnInstant="{Time(a.AuthnInstant ?? a.Now.AddSeconds(-5))}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>""" +
            $"""<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>{E(a.Email)}</saml:AttributeValue></saml:Attribute><saml:Attribute Name="firstName"><saml:AttributeValue>Alice</saml:AttributeValue></saml:Attribute><saml:Attribute Name="lastName"><saml:AttributeValue>Archer</saml:AttributeValue></saml:Attribute><saml:Attribute Name="groups">{groups}</saml:Attribute></saml:AttributeStatement>""" +
            "</saml:Assertion></samlp:Response>";
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        document.LoadXml(xml);
        var assertion = (XmlElement)document.GetElementsByTagName("Assertion", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!;
        Sign(assertion, signWith ?? Certificate);
        if (signResponse) Sign(document.DocumentElement!, signWith ?? Certificate);
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(document.OuterXml));
    }

    private static void Sign(XmlElement element, X509Certificate2 certificate)
    {
        var signedXml = new SignedXml(element) { SigningKey = certificate.GetRSAPrivateKey() };
        signedXml.SignedInfo!.SignatureMethod = SignedXml.XmlDsigRSASHA256Url;
        signedXml.SignedInfo.CanonicalizationMethod = SignedXml.XmlDsigExcC14NTransformUrl;
        var reference = new Reference("#" + element.GetAttribute("ID")) { DigestMethod = SignedXml.XmlDsigSHA256Url };
        reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
        reference.AddTransform(new XmlDsigExcC14NTransform());
        signedXml.AddReference(reference);
        var keyInfo = new KeyInfo();
        keyInfo.AddClause(new KeyInfoX509Data(certificate));
        signedXml.KeyInfo = keyInfo;
        signedXml.ComputeSignature();
        var signature = element.OwnerDocument.ImportNode(signedXml.GetXml(), deep: true);
        var issuer = element.ChildNodes.OfType<XmlElement>().First(e => e.LocalName == "Issuer");
        element.InsertAfter(signature, issuer);
    }

    // The protocol tests' IdP: fixed ids, instant and keys.

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
public sealed record TestResponse
{
    public string ResponseId { get; init; } = SamlTestIdp.ResponseId;
    public string AssertionId { get; init; } = SamlTestIdp.AssertionId;
    public string? ResponseIssuer { get; init; } = SamlTestIdp.EntityId;
    public string? AssertionIssuer { get; init; } = SamlTestIdp.EntityId;
    public string? Destination { get; init; } = SamlTestIdp.AcsUrl;
    public string? InResponseTo { get; init; } = SamlTestIdp.RequestId;
    public string? ConfirmationInResponseTo { get; init; } = SamlTestIdp.RequestId;
    public string StatusCode { get; init; } = SamlUris.StatusSuccess;
    public string? NameIdXml { get; init; }
    public string NameId { get; init; } = SamlTestIdp.Email;
    public string NameIdFormat { get; init; } = SamlUris.EmailNameIdFormat;
    public string ConfirmationMethod { get; init; } = SamlUris.BearerConfirmation;
    public string? Recipient { get; init; } = SamlTestIdp.AcsUrl;
    public DateTimeOffset? ConfirmationNotOnOrAfter { get; init; } = SamlTestIdp.Now.AddMinutes(5);
    public DateTimeOffset? NotBefore { get; init; } = SamlTestIdp.Now.AddMinutes(-1);
    public DateTimeOffset? NotOnOrAfter { get; init; } = SamlTestIdp.Now.AddMinutes(5);
    public string? Audience { get; init; } = SamlTestIdp.SpEntityId;
    public DateTimeOffset? SessionNotOnOrAfter { get; init; } = SamlTestIdp.Now.AddHours(8);
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
            $"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{ResponseId}" Version="2.0" IssueInstant="{Time(SamlTestIdp.Now)}"{Attr("Destination", Destination)}{Attr("InResponseTo", InResponseTo)}>""" +
            issuer +
            $"""<samlp:Status><samlp:StatusCode Value="{StatusCode}"/></samlp:Status>""" +
            $"""<saml:Assertion ID="{AssertionId}" Version="2.0" IssueInstant="{Time(SamlTestIdp.Now)}">""" +
            assertionIssuer +
            $"""<saml:Subject><saml:NameID Format="{NameIdFormat}">{nameId}</saml:NameID>""" +
            $"""<saml:SubjectConfirmation Method="{ConfirmationMethod}"><saml:SubjectConfirmationData{Attr("InResponseTo", ConfirmationInResponseTo)}{TimeAttr("NotOnOrAfter", ConfirmationNotOnOrAfter)}{Attr("Recipient", Recipient)}/></saml:SubjectConfirmation></saml:Subject>""" +
            $"""<saml:Conditions{TimeAttr("NotBefore", NotBefore)}{TimeAttr("NotOnOrAfter", NotOnOrAfter)}>{audience}{ExtraConditionsXml}</saml:Conditions>""" +
            $"""<saml:AuthnStatement AuthnInstant="{Time(SamlTestIdp.Now.AddSeconds(-5))}"{TimeAttr("SessionNotOnOrAfter", SessionNotOnOrAfter)} SessionIndex="{SessionIndex}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>""" +
            $"""<saml:AttributeStatement>{AttributesXml}</saml:AttributeStatement>""" +
            "</saml:Assertion></samlp:Response>";
    }
}
