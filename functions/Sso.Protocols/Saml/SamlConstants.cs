namespace Sso.Protocols.Saml;

internal static class SamlNamespaces
{
    public const string Protocol = "urn:oasis:names:tc:SAML:2.0:protocol";
    public const string Assertion = "urn:oasis:names:tc:SAML:2.0:assertion";
    public const string Metadata = "urn:oasis:names:tc:SAML:2.0:metadata";
    public const string XmlDsig = "http://www.w3.org/2000/09/xmldsig#";
    public const string XmlEnc = "http://www.w3.org/2001/04/xmlenc#";
    public const string XmlEnc11 = "http://www.w3.org/2009/xmlenc11#";
    public const string Xsi = "http://www.w3.org/2001/XMLSchema-instance";
}

/// <summary>SAML 2.0 URIs that callers and IdPs use by value.</summary>
public static class SamlUris
{
    public const string StatusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success";
    public const string BearerConfirmation = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
    public const string EntityNameIdFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
    public const string EmailNameIdFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    public const string UnspecifiedNameIdFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
    public const string PersistentNameIdFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
    public const string HttpPostBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    public const string HttpRedirectBinding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    public const string Saml20Protocol = SamlNamespaces.Protocol;
}

/// <summary>XML Signature and XML Encryption algorithm identifiers.</summary>
public static class SamlAlgorithms
{
    public const string RsaSha1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
    public const string RsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    public const string RsaSha384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
    public const string RsaSha512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
    public const string EcdsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    public const string EcdsaSha384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
    public const string EcdsaSha512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";

    public const string Sha1 = "http://www.w3.org/2000/09/xmldsig#sha1";
    public const string Sha256 = "http://www.w3.org/2001/04/xmlenc#sha256";
    public const string Sha384 = "http://www.w3.org/2001/04/xmldsig-more#sha384";
    public const string Sha512 = "http://www.w3.org/2001/04/xmlenc#sha512";

    public const string EnvelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
    public const string ExclusiveC14n = "http://www.w3.org/2001/10/xml-exc-c14n#";
    public const string ExclusiveC14nWithComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

    public const string RsaOaepMgf1p = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
    public const string RsaOaep = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
    public const string RsaPkcs1V15 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
    public const string Mgf1Sha1 = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
    public const string Mgf1Sha256 = "http://www.w3.org/2009/xmlenc11#mgf1sha256";
    public const string Mgf1Sha384 = "http://www.w3.org/2009/xmlenc11#mgf1sha384";
    public const string Mgf1Sha512 = "http://www.w3.org/2009/xmlenc11#mgf1sha512";

    public const string Aes128Cbc = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
    public const string Aes256Cbc = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
    public const string Aes128Gcm = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
    public const string Aes256Gcm = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
    public const string TripleDesCbc = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc";

    /// <summary>The authenticated data encryption algorithms: every connection accepts these by default.</summary>
    public static IReadOnlyCollection<string> GcmEncryption { get; } = [Aes128Gcm, Aes256Gcm];

    /// <summary>The data encryption algorithms a connection may list, by the short names the API uses.</summary>
    public static IReadOnlyDictionary<string, string> EncryptionByShortName { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["aes128-gcm"] = Aes128Gcm, ["aes256-gcm"] = Aes256Gcm, ["aes128-cbc"] = Aes128Cbc, ["aes256-cbc"] = Aes256Cbc,
    };

    /// <summary>"aes256-gcm" for the xmlenc URI of AES-256-GCM; the URI itself when it has no short name.</summary>
    public static string ShortName(string? algorithm) =>
        EncryptionByShortName.FirstOrDefault(p => p.Value == algorithm).Key ?? SamlFailure.Shown(algorithm);
}
