using System.IO.Compression;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Web;
using System.Xml;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// A SAML IdP for the HTTP tests: a key generated at startup, Responses built for a given
/// AuthnRequest and signed (assertion, response or both) the way IdPs do.
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
        public string Issuer { get; init; } = EntityId;

        /// <summary>When the IdP says the user authenticated; five seconds before <see cref="Now"/> unless set.</summary>
        public DateTimeOffset? AuthnInstant { get; init; }
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
}
