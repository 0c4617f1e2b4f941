using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Security;
using System.Text;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>
/// Decrypts an EncryptedAssertion (core §2.3.4, XML Encryption 1.1): the content key is
/// RSA-OAEP-wrapped for one of our certificates, the assertion is AES-CBC or AES-GCM.
/// The plaintext is parsed like any other untrusted XML; decryption proves nothing about who
/// wrote it, so the verifier still needs a signature.
/// </summary>
internal static class SamlAssertionDecryptor
{
    private const int GcmNonceBytes = 12;
    private const int GcmTagBytes = 16;

    /// <returns>The assertion as a document of its own, and whether the cipher authenticated the ciphertext (GCM).</returns>
    public static Result<(XmlDocument Assertion, bool Authenticated), SamlFailure> Decrypt(
        XmlElement encryptedAssertion, IReadOnlyList<X509Certificate2> decryptionCertificates)
    {
        if (decryptionCertificates.Count == 0)
            return Failed("The assertion is encrypted but the connection has no SP encryption certificate; " +
                          "publish the SP metadata with its encryption certificate or turn assertion encryption off at the IdP.");

        var encryptedData = SecureXml.ChildElements(encryptedAssertion, SamlNamespaces.XmlEnc, "EncryptedData").ToList();
        if (encryptedData.Count != 1)
            return SamlFailure.Structure($"The EncryptedAssertion has {encryptedData.Count} EncryptedData elements; exactly one is expected.");
        var data = encryptedData[0];

        var dataAlgorithm = AlgorithmOf(data);
        var keyBytes = dataAlgorithm switch
        {
            SamlAlgorithms.Aes128Cbc or SamlAlgorithms.Aes128Gcm => 16,
            SamlAlgorithms.Aes256Cbc or SamlAlgorithms.Aes256Gcm => 32,
            _ => 0,
        };
        if (keyBytes == 0)
            return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                $"The assertion is encrypted with '{SamlFailure.Shown(dataAlgorithm)}'; use AES-128/256-GCM or AES-128/256-CBC.",
                SamlAlgorithms.Aes256Gcm, dataAlgorithm);

        if (CipherValue(data) is not { } cipherValue)
            return SamlFailure.Structure("The EncryptedData carries no base64 CipherValue (CipherReference is not accepted).");

        // Okta and ADFS put EncryptedKey inside EncryptedData/KeyInfo; Shibboleth puts it beside EncryptedData.
        var encryptedKeys = new List<XmlElement>();
        if (SecureXml.ChildElement(data, SamlNamespaces.XmlDsig, "KeyInfo") is { } keyInfo)
            encryptedKeys.AddRange(SecureXml.ChildElements(keyInfo, SamlNamespaces.XmlEnc, "EncryptedKey"));
        encryptedKeys.AddRange(SecureXml.ChildElements(encryptedAssertion, SamlNamespaces.XmlEnc, "EncryptedKey"));
        if (encryptedKeys.Count == 0)
            return Failed("The EncryptedAssertion has no EncryptedKey; the content key must be sent RSA-OAEP-encrypted.");

        var key = UnwrapContentKey(encryptedKeys, decryptionCertificates);
        if (!key.IsSuccess) return key.Error;
        if (key.Value.Length != keyBytes)
        {
            CryptographicOperations.ZeroMemory(key.Value);
            return Failed($"The content key is {key.Value.Length} bytes; '{SamlFailure.Shown(dataAlgorithm)}' needs {keyBytes}.");
        }

        byte[] plaintext;
        try
        {
            plaintext = dataAlgorithm is SamlAlgorithms.Aes128Gcm or SamlAlgorithms.Aes256Gcm
                ? DecryptGcm(key.Value, cipherValue)
                : DecryptCbc(key.Value, data);
        }
        catch (CryptographicException)
        {
            return Undecryptable();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key.Value);
        }

        var parsed = ParsePlaintext(plaintext, encryptedAssertion);
        if (!parsed.IsSuccess) return parsed.Error;
        return (parsed.Value, dataAlgorithm is SamlAlgorithms.Aes128Gcm or SamlAlgorithms.Aes256Gcm);
    }

    /// <summary>
    /// XML Encryption §4.2: decrypted Element content is parsed in the context of the element
    /// it replaces, so an assertion may use prefixes declared on the Response. The plaintext is
    /// parsed inside a wrapper that declares those namespaces, the declarations are copied onto
    /// the Assertion (exclusive c14n renders them exactly as it would have in place, including an
    /// InclusiveNamespaces PrefixList), and the Assertion becomes a document of its own.
    /// </summary>
    private static Result<XmlDocument, SamlFailure> ParsePlaintext(byte[] plaintext, XmlElement encryptedAssertion)
    {
        var text = Encoding.UTF8.GetString(plaintext).TrimStart('\uFEFF');
        if (text.StartsWith("<?xml", StringComparison.Ordinal))
        {
            var end = text.IndexOf("?>", StringComparison.Ordinal);
            if (end < 0) return Undecryptable();
            text = text[(end + 2)..];
        }

        var inScope = InScopeNamespaces(encryptedAssertion);
        var wrapper = new StringBuilder("<decrypted");
        foreach (var (prefix, uri) in inScope)
            wrapper.Append(prefix.Length == 0 ? " xmlns" : " xmlns:" + prefix).Append("=\"").Append(SecurityElement.Escape(uri)).Append('"');
        wrapper.Append('>').Append(text).Append("</decrypted>");

        var wrapped = SecureXml.Load(Encoding.UTF8.GetBytes(wrapper.ToString()), SamlResponseReader.MaxDecodedBytes + 4096, "decrypted assertion");
        if (!wrapped.IsSuccess)
            return Undecryptable();
        var root = wrapped.Value.DocumentElement!;
        var elements = SecureXml.ChildElements(root).ToList();
        if (elements.Count != 1 || root.ChildNodes.OfType<XmlText>().Any(t => !string.IsNullOrWhiteSpace(t.Value)))
            return Undecryptable();

        var assertion = elements[0];
        foreach (var (prefix, uri) in inScope)
        {
            var name = prefix.Length == 0 ? "xmlns" : "xmlns:" + prefix;
            if (assertion.HasAttribute(name)) continue;
            var declaration = wrapped.Value.CreateAttribute(prefix.Length == 0 ? null : "xmlns", prefix.Length == 0 ? "xmlns" : prefix, XmlnsNamespace);
            declaration.Value = uri;
            assertion.Attributes.Append(declaration);
        }
        return SecureXml.Load(Encoding.UTF8.GetBytes(assertion.OuterXml), SamlResponseReader.MaxDecodedBytes + 4096, "decrypted assertion");
    }

    private const string XmlnsNamespace = "http://www.w3.org/2000/xmlns/";

    private static List<(string Prefix, string Uri)> InScopeNamespaces(XmlElement element)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (XmlNode? node = element; node is XmlElement current; node = current.ParentNode)
            foreach (XmlAttribute attribute in current.Attributes)
                if (attribute.NamespaceURI == XmlnsNamespace)
                    seen.TryAdd(attribute.Prefix == "xmlns" ? attribute.LocalName : "", attribute.Value);
        return seen.Where(n => n.Value.Length > 0 || n.Key.Length == 0).Select(n => (n.Key, n.Value)).ToList();
    }

    private static Result<byte[], SamlFailure> UnwrapContentKey(List<XmlElement> encryptedKeys, IReadOnlyList<X509Certificate2> certificates)
    {
        SamlFailure? lastFailure = null;
        foreach (var encryptedKey in encryptedKeys)
        {
            var padding = KeyTransportPadding(encryptedKey);
            if (!padding.IsSuccess) { lastFailure = padding.Error; continue; }
            if (CipherValue(encryptedKey) is not { } wrapped)
            {
                lastFailure = SamlFailure.Structure("The EncryptedKey carries no base64 CipherValue.");
                continue;
            }
            foreach (var certificate in certificates)
            {
                using var rsa = certificate.GetRSAPrivateKey();
                if (rsa is null) continue;
                try
                {
                    return rsa.Decrypt(wrapped, padding.Value);
                }
                catch (CryptographicException)
                {
                    // OAEP fails closed with the wrong key; try the next certificate (rollover).
                }
            }
            lastFailure = Failed("The content key was not encrypted for any of this connection's SP encryption certificates; " +
                                 "give the IdP the certificate from the current SP metadata.");
        }
        return lastFailure!;
    }

    /// <summary>
    /// XML Encryption 1.1 §5.5.2: rsa-oaep-mgf1p always uses MGF1 with SHA-1; rsa-oaep names
    /// its MGF. .NET's OAEP uses one hash for both, so only matching pairs are possible.
    /// RSA PKCS#1 v1.5 key transport is refused (Bleichenbacher-style oracles).
    /// </summary>
    private static Result<RSAEncryptionPadding, SamlFailure> KeyTransportPadding(XmlElement encryptedKey)
    {
        var algorithm = AlgorithmOf(encryptedKey);
        var method = SecureXml.ChildElement(encryptedKey, SamlNamespaces.XmlEnc, "EncryptionMethod");
        var digestElement = method is null ? null : SecureXml.ChildElement(method, SamlNamespaces.XmlDsig, "DigestMethod");
        var digest = digestElement is null ? SamlAlgorithms.Sha1 : SecureXml.Attribute(digestElement, "Algorithm");
        var mgfElement = method is null ? null : SecureXml.ChildElement(method, SamlNamespaces.XmlEnc11, "MGF");
        var mgf = mgfElement is null ? SamlAlgorithms.Mgf1Sha1 : SecureXml.Attribute(mgfElement, "Algorithm");

        if (algorithm == SamlAlgorithms.RsaPkcs1V15)
            return new SamlFailure(SamlFailureKind.WeakAlgorithm,
                "The content key is encrypted with RSA PKCS#1 v1.5 (rsa-1_5); configure the IdP to use RSA-OAEP.",
                SamlAlgorithms.RsaOaepMgf1p, algorithm);
        if (algorithm == SamlAlgorithms.RsaOaepMgf1p) mgf = SamlAlgorithms.Mgf1Sha1;
        else if (algorithm != SamlAlgorithms.RsaOaep)
            return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                $"The content key is encrypted with '{SamlFailure.Shown(algorithm)}'; use RSA-OAEP.", SamlAlgorithms.RsaOaepMgf1p, algorithm);

        RSAEncryptionPadding? padding = (digest, mgf) switch
        {
            (SamlAlgorithms.Sha1, SamlAlgorithms.Mgf1Sha1) => RSAEncryptionPadding.OaepSHA1,
            (SamlAlgorithms.Sha256, SamlAlgorithms.Mgf1Sha256) => RSAEncryptionPadding.OaepSHA256,
            (SamlAlgorithms.Sha384, SamlAlgorithms.Mgf1Sha384) => RSAEncryptionPadding.OaepSHA384,
            (SamlAlgorithms.Sha512, SamlAlgorithms.Mgf1Sha512) => RSAEncryptionPadding.OaepSHA512,
            _ => null,
        };
        if (padding is null)
            return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                $"RSA-OAEP with digest '{SamlFailure.Shown(digest)}' and mask function '{SamlFailure.Shown(mgf)}' is not supported; use the same hash for both (e.g. SHA-1 with rsa-oaep-mgf1p).",
                Actual: $"{digest} / {mgf}");
        return padding;
    }

    /// <summary>XML Encryption 1.1 §5.2.4: IV (12 bytes) || ciphertext || tag (16 bytes).</summary>
    private static byte[] DecryptGcm(byte[] key, byte[] cipherValue)
    {
        if (cipherValue.Length < GcmNonceBytes + GcmTagBytes)
            throw new CryptographicException("The AES-GCM ciphertext is shorter than its nonce and tag.");
        var nonce = cipherValue.AsSpan(0, GcmNonceBytes);
        var tag = cipherValue.AsSpan(cipherValue.Length - GcmTagBytes);
        var ciphertext = cipherValue.AsSpan(GcmNonceBytes, cipherValue.Length - GcmNonceBytes - GcmTagBytes);
        var plaintext = new byte[ciphertext.Length];
        using var aes = new AesGcm(key, GcmTagBytes);
        aes.Decrypt(nonce, ciphertext, tag, plaintext);
        return plaintext;
    }

    /// <summary>XML Encryption §5.2.1 (IV prefixed, ISO 10126 padding), through EncryptedXml.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "See StrictIdSignedXml.Create; the AOT test decrypts CBC.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "See StrictIdSignedXml.Create.")]
    private static byte[] DecryptCbc(byte[] key, XmlElement encryptedDataElement)
    {
        var encryptedData = new EncryptedData();
        encryptedData.LoadXml(encryptedDataElement);
        using var aes = Aes.Create();
        aes.Key = key;
        // CipherReference was refused above, so EncryptedXml never resolves a URL here.
        return new EncryptedXml().DecryptData(encryptedData, aes);
    }

    private static string? AlgorithmOf(XmlElement encrypted) =>
        SecureXml.ChildElement(encrypted, SamlNamespaces.XmlEnc, "EncryptionMethod") is { } method
            ? SecureXml.Attribute(method, "Algorithm")
            : null;

    private static byte[]? CipherValue(XmlElement encrypted)
    {
        if (SecureXml.ChildElement(encrypted, SamlNamespaces.XmlEnc, "CipherData") is not { } cipherData) return null;
        if (SecureXml.ChildElement(cipherData, SamlNamespaces.XmlEnc, "CipherValue") is not { } cipherValue) return null;
        try { return Convert.FromBase64String(cipherValue.InnerText); }
        catch (FormatException) { return null; }
    }

    private static SamlFailure Failed(string message) => new(SamlFailureKind.DecryptionFailed, message);

    // One answer for a bad tag, bad padding and plaintext that does not parse: telling them
    // apart would be the oracle of Jager and Somorovsky's attack on XML Encryption's CBC mode
    // ("How to Break XML Encryption", 2011), which decrypts a captured assertion byte by byte.
    internal static SamlFailure Undecryptable() =>
        Failed("The encrypted assertion cannot be decrypted and verified: the ciphertext is damaged or not produced for this connection, " +
               "or the assertion inside is not signed by the configured IdP certificate. Details are withheld for AES-CBC without a signed " +
               "Response; have the IdP use AES-GCM or sign the Response to see the precise reason.");
}
