using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>Signs our own SAML messages (AuthnRequest over HTTP-POST) the way IdPs expect (core §5.4).</summary>
internal static class SamlXmlSigner
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "See StrictIdSignedXml; the signature and digest types are kept for AOT.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "No XSLT transform is used.")]
    public static void SignEnveloped(XmlElement element, X509Certificate2 certificate, string signatureMethod)
    {
        XmlSignatureAlgorithms.EnsureRegistered();
        AsymmetricAlgorithm key = XmlSignatureAlgorithms.IsEcdsa(signatureMethod)
            ? certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("The certificate has no ECDSA private key.", nameof(certificate))
            : certificate.GetRSAPrivateKey() ?? throw new ArgumentException("The certificate has no RSA private key.", nameof(certificate));
        using (key)
        {
            var signedXml = new SignedXml(element) { SigningKey = key };
            signedXml.SignedInfo!.SignatureMethod = signatureMethod;
            signedXml.SignedInfo.CanonicalizationMethod = SamlAlgorithms.ExclusiveC14n;
            var reference = new Reference("#" + element.GetAttribute("ID")) { DigestMethod = DigestFor(signatureMethod) };
            reference.AddTransform(new XmlDsigEnvelopedSignatureTransform());
            reference.AddTransform(new XmlDsigExcC14NTransform());
            signedXml.AddReference(reference);
            var keyInfo = new KeyInfo();
            keyInfo.AddClause(new KeyInfoX509Data(certificate));
            signedXml.KeyInfo = keyInfo;
            signedXml.ComputeSignature();

            // Core §3.4.1 / §3.2.1: the Signature follows the Issuer.
            var signature = element.OwnerDocument.ImportNode(signedXml.GetXml(), deep: true);
            var issuer = SecureXml.ChildElement(element, SamlNamespaces.Assertion, "Issuer");
            if (issuer is null) element.PrependChild(signature);
            else element.InsertAfter(signature, issuer);
        }
    }

    /// <summary>Bindings §3.4.4.1: the signature over the query string of a redirect.</summary>
    public static byte[] SignBytes(byte[] data, X509Certificate2 certificate, string signatureMethod)
    {
        var hash = signatureMethod switch
        {
            SamlAlgorithms.RsaSha256 or SamlAlgorithms.EcdsaSha256 => HashAlgorithmName.SHA256,
            SamlAlgorithms.RsaSha384 or SamlAlgorithms.EcdsaSha384 => HashAlgorithmName.SHA384,
            SamlAlgorithms.RsaSha512 or SamlAlgorithms.EcdsaSha512 => HashAlgorithmName.SHA512,
            _ => throw new ArgumentException($"'{signatureMethod}' is not a signature method this service signs with.", nameof(signatureMethod)),
        };
        if (XmlSignatureAlgorithms.IsEcdsa(signatureMethod))
        {
            using var ecdsa = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("The certificate has no ECDSA private key.", nameof(certificate));
            return ecdsa.SignData(data, hash);
        }
        using var rsa = certificate.GetRSAPrivateKey() ?? throw new ArgumentException("The certificate has no RSA private key.", nameof(certificate));
        return rsa.SignData(data, hash, RSASignaturePadding.Pkcs1);
    }

    private static string DigestFor(string signatureMethod) => signatureMethod switch
    {
        SamlAlgorithms.RsaSha384 or SamlAlgorithms.EcdsaSha384 => SamlAlgorithms.Sha384,
        SamlAlgorithms.RsaSha512 or SamlAlgorithms.EcdsaSha512 => SamlAlgorithms.Sha512,
        _ => SamlAlgorithms.Sha256,
    };
}
