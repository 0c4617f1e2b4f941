using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>What the verifier may trust: the connection's certificates, never the message's.</summary>
public sealed record SamlTrust
{
    /// <summary>The IdP signing certificates configured on the connection; several during a rollover.</summary>
    public required IReadOnlyList<X509Certificate2> IdpCertificates { get; init; }

    /// <summary>RSA-SHA1 and SHA-1 digests are refused unless the connection opts in (DESIGN §3.2).</summary>
    public bool AllowSha1 { get; init; }

    /// <summary>The SP's encryption certificates with private keys; several during a rollover.</summary>
    public IReadOnlyList<X509Certificate2> DecryptionCertificates { get; init; } = [];

    /// <summary>
    /// The data encryption algorithms an encrypted assertion may use (the connection's list;
    /// default AES-GCM). AES-CBC, when listed, is still taken only from a signed Response, whose
    /// signature covers the ciphertext.
    /// </summary>
    public IReadOnlyCollection<string> AllowedEncryptionAlgorithms { get; init; } = SamlAlgorithms.GcmEncryption;
}

/// <summary>
/// A Response whose shape was checked and whose signatures were verified.
/// <see cref="Assertion"/> is covered by a verified signature, its own or the Response's;
/// <see cref="Response"/> is covered only when <see cref="ResponseSigned"/> is true.
/// </summary>
public sealed record VerifiedSamlResponse(XmlElement Response, XmlElement Assertion, bool ResponseSigned, bool AssertionSigned, bool WasEncrypted);

/// <summary>
/// Enforces the one shape of SAML Response that IdPs really send (DESIGN §3.2) and verifies
/// its signatures against the connection's certificates. Anything else, including a wrapped
/// document whose signed part is genuine, is refused, never repaired.
/// </summary>
public static class SamlSignatureVerifier
{
    private static readonly HashSet<string> StrongSignatureMethods =
    [
        SamlAlgorithms.RsaSha256, SamlAlgorithms.RsaSha384, SamlAlgorithms.RsaSha512,
        SamlAlgorithms.EcdsaSha256, SamlAlgorithms.EcdsaSha384, SamlAlgorithms.EcdsaSha512,
    ];

    private static readonly HashSet<string> StrongDigestMethods =
        [SamlAlgorithms.Sha256, SamlAlgorithms.Sha384, SamlAlgorithms.Sha512];

    private static readonly HashSet<string> CanonicalizationMethods =
        [SamlAlgorithms.ExclusiveC14n, SamlAlgorithms.ExclusiveC14nWithComments];

    private static readonly HashSet<string> AllowedTransforms =
        [SamlAlgorithms.EnvelopedSignature, SamlAlgorithms.ExclusiveC14n, SamlAlgorithms.ExclusiveC14nWithComments];

    public static Result<VerifiedSamlResponse, SamlFailure> Verify(XmlDocument unverifiedXml, SamlTrust trust)
    {
        if (trust.IdpCertificates.Count == 0)
            return new SamlFailure(SamlFailureKind.UntrustedCertificate,
                "The connection has no IdP signing certificate configured; add the certificate from the IdP's metadata.");

        // A document that did not come through SamlResponseReader may carry a DTD.
        if (unverifiedXml.DocumentType is not null)
            return new SamlFailure(SamlFailureKind.DtdProhibited, "The SAML response contains a DOCTYPE declaration; DTDs are never accepted.");

        if (unverifiedXml.DocumentElement is not { } unverifiedResponse
            || !Is(unverifiedResponse, SamlNamespaces.Protocol, "Response"))
            return SamlFailure.Structure(
                $"The root element is <{unverifiedXml.DocumentElement?.Name}>; a SAML 2.0 <samlp:Response> is expected.");

        var shape = CheckResponseShape(unverifiedResponse);
        if (!shape.IsSuccess) return shape.Error;
        var assertionChild = shape.Value;

        var ids = new Dictionary<string, XmlElement>(StringComparer.Ordinal);
        if (CollectIds(unverifiedResponse, ids, skipEncryptedContent: true) is { } duplicate) return duplicate;

        var responseSigned = false;
        if (SecureXml.ChildElement(unverifiedResponse, SamlNamespaces.XmlDsig, "Signature") is { } responseSignature)
        {
            if (VerifyEnvelopedSignature(unverifiedResponse, responseSignature, trust, "Response") is { } failed) return failed;
            responseSigned = true;
        }

        XmlElement assertion;
        var wasEncrypted = false;
        // Unauthenticated ciphertext (AES-CBC) that no verified signature covered can be
        // altered at will; if the answer showed whether the altered plaintext parsed, it would
        // be the decryption oracle of "How to Break XML Encryption" (Jager, Somorovsky 2011).
        var withholdDetails = false;
        if (assertionChild.LocalName == "EncryptedAssertion")
        {
            // Checked before any decryption, so nothing about the plaintext can leak.
            if (CheckEncryptionAlgorithm(assertionChild, responseSigned, trust) is { } refused) return refused;
            // The Response signature (if any) covered the ciphertext; the plaintext is a new
            // document that goes through the same shape and ID rules before it is trusted.
            var decrypted = SamlAssertionDecryptor.Decrypt(assertionChild, trust.DecryptionCertificates);
            if (!decrypted.IsSuccess) return decrypted.Error;
            withholdDetails = !responseSigned && !decrypted.Value.Authenticated;
            var decryptedAssertion = decrypted.Value.Assertion.DocumentElement!;
            if (CheckDecryptedAssertionShape(decryptedAssertion) is { } badDecrypted) return Withheld(badDecrypted);
            if (CollectIds(decryptedAssertion, ids, skipEncryptedContent: false) is { } duplicateInside) return Withheld(duplicateInside);
            assertion = decryptedAssertion;
            wasEncrypted = true;
        }
        else
        {
            assertion = assertionChild;
        }

        var assertionSigned = false;
        if (SecureXml.ChildElement(assertion, SamlNamespaces.XmlDsig, "Signature") is { } assertionSignature)
        {
            if (VerifyEnvelopedSignature(assertion, assertionSignature, trust, "Assertion") is { } failed) return Withheld(failed);
            assertionSigned = true;
        }

        if (!responseSigned && !assertionSigned)
            return Withheld(new SamlFailure(SamlFailureKind.SignatureMissing,
                "Neither the Response nor the Assertion is signed; configure the IdP to sign the assertion, the response, or both."));

        return new VerifiedSamlResponse(unverifiedResponse, assertion, responseSigned, assertionSigned, wasEncrypted);

        SamlFailure Withheld(SamlFailure failure) => withholdDetails ? SamlAssertionDecryptor.Undecryptable() : failure;
    }

    /// <summary>
    /// A protocol message other than a Response (LogoutRequest, LogoutResponse) sent over
    /// HTTP-POST: the same strict rules, narrowed to one signature, a direct child of the root,
    /// over the root's own ID, and no other Signature or duplicate ID anywhere. Returns the root.
    /// </summary>
    public static Result<XmlElement, SamlFailure> VerifyProtocolMessage(XmlDocument unverifiedXml, string localName, SamlTrust trust)
    {
        if (trust.IdpCertificates.Count == 0)
            return new SamlFailure(SamlFailureKind.UntrustedCertificate,
                "The connection has no IdP signing certificate configured; add the certificate from the IdP's metadata.");
        if (unverifiedXml.DocumentType is not null)
            return new SamlFailure(SamlFailureKind.DtdProhibited, "The SAML message contains a DOCTYPE declaration; DTDs are never accepted.");
        if (unverifiedXml.DocumentElement is not { } root || !Is(root, SamlNamespaces.Protocol, localName))
            return SamlFailure.Structure(
                $"The root element is <{unverifiedXml.DocumentElement?.Name}>; a SAML 2.0 <samlp:{localName}> is expected.");
        if (CollectIds(root, new Dictionary<string, XmlElement>(StringComparer.Ordinal), skipEncryptedContent: false) is { } duplicate)
            return duplicate;
        XmlElement? signature = null;
        foreach (var element in SecureXml.DescendantsAndSelf(root))
        {
            if (!Is(element, SamlNamespaces.XmlDsig, "Signature")) continue;
            if (!ReferenceEquals(element.ParentNode, root) || signature is not null)
                return SamlFailure.Structure(
                    $"The {localName} carries a signature inside <{element.ParentNode?.Name}> or more than one; exactly one, a direct child of the {localName}, is accepted.");
            signature = element;
        }
        if (signature is null)
            return new SamlFailure(SamlFailureKind.SignatureMissing,
                $"The {localName} is not signed; configure the IdP to sign its logout messages.");
        return VerifyEnvelopedSignature(root, signature, trust, localName) is { } failed ? failed : root;
    }

    /// <summary>
    /// Core §3.2.2 and §3.4.1 order the children of Response: Issuer?, Signature?, Extensions?,
    /// Status, then assertions; the profile (§4.1.4.2) needs one. Counting every Assertion and
    /// Signature in the whole document is what stops signature wrapping (XSW 1–8): a genuine
    /// signed element can only be used where it was signed, because nothing else may exist.
    /// </summary>
    private static Result<XmlElement, SamlFailure> CheckResponseShape(XmlElement response)
    {
        string[] order = ["Issuer", "Signature", "Extensions", "Status", "Assertion"];
        var position = -1;
        XmlElement? assertion = null;
        foreach (var child in SecureXml.ChildElements(response))
        {
            var name = child.LocalName;
            var expectedNamespace = name switch
            {
                "Issuer" or "Assertion" or "EncryptedAssertion" => SamlNamespaces.Assertion,
                "Signature" => SamlNamespaces.XmlDsig,
                _ => SamlNamespaces.Protocol,
            };
            var index = Array.IndexOf(order, name == "EncryptedAssertion" ? "Assertion" : name);
            if (index < 0 || child.NamespaceURI != expectedNamespace)
                return SamlFailure.Structure($"The Response contains an unexpected element <{child.Name}>.");
            if (index < position || (index == position))
                return SamlFailure.Structure(index == 4
                    ? "The Response contains more than one assertion; exactly one is accepted."
                    : $"The Response has <{child.Name}> out of place or more than once.");
            position = index;
            if (index == 4) assertion = child;
        }
        if (position < 3)
            return SamlFailure.Structure("The Response has no <samlp:Status>.");
        if (assertion is null)
            return SamlFailure.Structure("The Response contains no assertion; exactly one is expected.");

        foreach (var element in SecureXml.DescendantsAndSelf(response))
        {
            if (element.NamespaceURI == SamlNamespaces.Assertion
                && element.LocalName is "Assertion" or "EncryptedAssertion"
                && !ReferenceEquals(element, assertion))
                return SamlFailure.Structure(
                    $"The Response contains an assertion inside <{element.ParentNode?.Name}>; only one assertion, directly under Response, is accepted.");
            if (Is(element, SamlNamespaces.XmlDsig, "Signature")
                && !ReferenceEquals(element.ParentNode, response)
                && !ReferenceEquals(element.ParentNode, assertion))
                return SamlFailure.Structure(
                    $"The Response contains a signature inside <{element.ParentNode?.Name}>; a signature must be a direct child of the Response or the Assertion it signs.");
        }
        if (SecureXml.ChildElements(assertion, SamlNamespaces.XmlDsig, "Signature").Count() > 1)
            return SamlFailure.Structure("The Assertion carries more than one signature.");
        return assertion;
    }

    private static SamlFailure? CheckDecryptedAssertionShape(XmlElement assertion)
    {
        if (!Is(assertion, SamlNamespaces.Assertion, "Assertion"))
            return new SamlFailure(SamlFailureKind.DecryptionFailed,
                $"The EncryptedAssertion decrypts to <{assertion.Name}>; a <saml:Assertion> is expected.");
        var signatures = 0;
        foreach (var element in SecureXml.DescendantsAndSelf(assertion))
        {
            if (!ReferenceEquals(element, assertion)
                && element.NamespaceURI == SamlNamespaces.Assertion
                && element.LocalName is "Assertion" or "EncryptedAssertion")
                return SamlFailure.Structure("The decrypted assertion contains another assertion; exactly one is accepted.");
            if (Is(element, SamlNamespaces.XmlDsig, "Signature"))
            {
                if (!ReferenceEquals(element.ParentNode, assertion))
                    return SamlFailure.Structure(
                        $"The decrypted assertion contains a signature inside <{element.ParentNode?.Name}>; it must be a direct child of the Assertion.");
                signatures++;
            }
        }
        return signatures > 1 ? SamlFailure.Structure("The decrypted assertion carries more than one signature.") : null;
    }

    /// <summary>
    /// Core §1.3.4: an ID is unique within the document. Two elements with one ID is how a
    /// wrapped copy gets a reference to resolve to the wrong element, so any duplicate is fatal.
    /// </summary>
    private static SamlFailure? CollectIds(XmlElement root, Dictionary<string, XmlElement> ids, bool skipEncryptedContent)
    {
        foreach (var element in SecureXml.DescendantsAndSelf(root))
        {
            if (skipEncryptedContent && element.NamespaceURI is SamlNamespaces.XmlEnc or SamlNamespaces.XmlEnc11) continue;
            if (SecureXml.Attribute(element, "ID") is not { } id) continue;
            if (!ids.TryAdd(id, element))
                return new SamlFailure(SamlFailureKind.DuplicateId,
                    $"The ID '{id}' appears on more than one element; IDs must be unique in a SAML message.", Actual: id);
        }
        return null;
    }

    private static SamlFailure? VerifyEnvelopedSignature(XmlElement signed, XmlElement signature, SamlTrust trust, string what)
    {
        var id = SecureXml.Attribute(signed, "ID");
        if (string.IsNullOrEmpty(id))
            return SamlFailure.Structure($"The signed {what} has no ID attribute.");

        var signedInfo = CheckSignedInfo(signature, id, trust.AllowSha1, what);
        if (!signedInfo.IsSuccess) return signedInfo.Error;
        var signatureMethod = signedInfo.Value;

        StrictIdSignedXml signedXml;
        // SignedXml.LoadXml parses every certificate in KeyInfo, and none is ever trusted here (only the
        // connection's are), so KeyInfo is set aside while loading. It is in neither digest: outside
        // SignedInfo, and inside the Signature that the enveloped-signature transform removes.
        var keyInfo = SecureXml.ChildElement(signature, SamlNamespaces.XmlDsig, "KeyInfo");
        var beforeKeyInfo = keyInfo?.PreviousSibling;
        try
        {
            if (keyInfo is not null) signature.RemoveChild(keyInfo);
            signedXml = StrictIdSignedXml.Create(signed);
            signedXml.LoadXml(signature);
        }
        catch (Exception e) when (e is CryptographicException or XmlException or FormatException)
        {
            return new SamlFailure(SamlFailureKind.SignatureInvalid, $"The {what} signature cannot be read as an XML signature.");
        }
        finally
        {
            if (keyInfo is not null) signature.InsertAfter(keyInfo, beforeKeyInfo);
        }

        var ecdsa = XmlSignatureAlgorithms.IsEcdsa(signatureMethod);
        // A connection saved before the key-size rule may still hold a weak certificate: never trusted.
        foreach (var certificate in trust.IdpCertificates)
        {
            var keys = PublicKeys.GetValue(certificate, c => new PublicKeyPool(c));
            if (!keys.StrongEnough) continue;
            var key = keys.Rent(ecdsa);
            if (key is null) continue;
            try
            {
                if (StrictIdSignedXml.Check(signedXml, key)) return null;
            }
            catch (Exception e) when (e is CryptographicException or XmlException or FormatException)
            {
                // A malformed SignatureValue or a key of the wrong size: this certificate did not verify it.
            }
            finally
            {
                keys.Return(key, ecdsa);
            }
        }

        if (EmbeddedCertificateThumbprint(signature) is { } embedded
            && !trust.IdpCertificates.Any(c => c.GetCertHashString(HashAlgorithmName.SHA256) == embedded))
            return new SamlFailure(SamlFailureKind.UntrustedCertificate,
                $"The {what} is signed with a certificate that is not configured for this connection (SHA-256 thumbprint {embedded}); " +
                "upload the IdP's current signing certificate.",
                Expected: string.Join(", ", trust.IdpCertificates.Select(c => c.GetCertHashString(HashAlgorithmName.SHA256))),
                Actual: embedded);
        return new SamlFailure(SamlFailureKind.SignatureInvalid,
            $"The {what} signature does not verify against the connection's IdP certificate(s); the message was altered or signed with another key.");
    }

    // An attacker who relabels AES-GCM ciphertext as AES-CBC turns CBC's missing integrity into a
    // decryption oracle for GCM too (Jager, Schinzel, Somorovsky, "One Bad Apple", ESORICS 2012).
    // So: only the connection's algorithms, and unauthenticated CBC only under a Response signature.
    private static SamlFailure? CheckEncryptionAlgorithm(XmlElement encryptedAssertion, bool responseSigned, SamlTrust trust)
    {
        var encryptedData = SecureXml.ChildElement(encryptedAssertion, SamlNamespaces.XmlEnc, "EncryptedData");
        var method = encryptedData is null ? null : SecureXml.ChildElement(encryptedData, SamlNamespaces.XmlEnc, "EncryptionMethod");
        var algorithm = method is null ? null : SecureXml.Attribute(method, "Algorithm");
        if (algorithm is null || !trust.AllowedEncryptionAlgorithms.Contains(algorithm))
            return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                $"The assertion is encrypted with '{SamlFailure.Shown(algorithm)}', which this connection does not accept " +
                $"({string.Join(", ", trust.AllowedEncryptionAlgorithms.Select(SamlAlgorithms.ShortName))}); set the IdP to AES-GCM " +
                "or add the algorithm to the connection's 'encryptionAlgorithms'.",
                SamlAlgorithms.Aes256Gcm, algorithm);
        if (!SamlAlgorithms.GcmEncryption.Contains(algorithm) && !responseSigned)
            return new SamlFailure(SamlFailureKind.WeakAlgorithm,
                $"The assertion is encrypted with '{SamlAlgorithms.ShortName(algorithm)}' (no integrity) and the Response is not signed; " +
                "set the IdP to AES-GCM, or to sign the whole Response.",
                SamlAlgorithms.Aes256Gcm, algorithm);
        return null;
    }

    /// <summary>
    /// XML DSig core §4.3–4.4, narrowed to what SAML IdPs send (SAML core §5.4): one Reference
    /// to the enveloping element's own ID, enveloped-signature and exclusive c14n only, and
    /// allow-listed algorithms. Returns the signature method.
    /// </summary>
    private static Result<string, SamlFailure> CheckSignedInfo(XmlElement signature, string id, bool allowSha1, string what)
    {
        var children = SecureXml.ChildElements(signature).ToList();
        if (children.Count == 0 || !Is(children[0], SamlNamespaces.XmlDsig, "SignedInfo"))
            return SamlFailure.Structure($"The {what} signature has no SignedInfo.");
        foreach (var child in children.Skip(1))
            if (child.NamespaceURI != SamlNamespaces.XmlDsig || child.LocalName is not ("SignatureValue" or "KeyInfo"))
                return SamlFailure.Structure($"The {what} signature contains an unexpected <{child.Name}>.");
        var signedInfo = children[0];

        var c14n = SecureXml.ChildElement(signedInfo, SamlNamespaces.XmlDsig, "CanonicalizationMethod");
        var c14nAlgorithm = c14n is null ? null : SecureXml.Attribute(c14n, "Algorithm");
        if (c14nAlgorithm is null || !CanonicalizationMethods.Contains(c14nAlgorithm))
            return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                $"The {what} signature uses canonicalization '{SamlFailure.Shown(c14nAlgorithm)}'; exclusive c14n is expected.",
                SamlAlgorithms.ExclusiveC14n, c14nAlgorithm);

        var method = SecureXml.ChildElement(signedInfo, SamlNamespaces.XmlDsig, "SignatureMethod");
        var signatureMethod = method is null ? null : SecureXml.Attribute(method, "Algorithm");
        if (signatureMethod == SamlAlgorithms.RsaSha1 && !allowSha1)
            return new SamlFailure(SamlFailureKind.WeakAlgorithm,
                $"The {what} is signed with RSA-SHA1; configure the IdP to sign with RSA-SHA256, or allow SHA-1 on this connection.",
                SamlAlgorithms.RsaSha256, signatureMethod);
        if (signatureMethod is null || !(StrongSignatureMethods.Contains(signatureMethod) || signatureMethod == SamlAlgorithms.RsaSha1))
            return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                $"The {what} signature method '{SamlFailure.Shown(signatureMethod)}' is not accepted; use RSA-SHA256/384/512 or ECDSA-SHA256/384/512.",
                SamlAlgorithms.RsaSha256, signatureMethod);

        var references = SecureXml.ChildElements(signedInfo, SamlNamespaces.XmlDsig, "Reference").ToList();
        if (references.Count != 1)
            return SamlFailure.Structure($"The {what} signature has {references.Count} references; exactly one, to the {what} itself, is expected.");
        var reference = references[0];
        var uri = SecureXml.Attribute(reference, "URI");
        if (uri != "#" + id)
            return new SamlFailure(SamlFailureKind.SignatureInvalid,
                $"The {what} signature references '{SamlFailure.Shown(uri)}', not the {what} it sits in ('#{id}').", "#" + id, uri);

        if (SecureXml.ChildElement(reference, SamlNamespaces.XmlDsig, "Transforms") is { } transforms)
        {
            var transformList = SecureXml.ChildElements(transforms).ToList();
            if (transformList.Count > 2)
                return SamlFailure.Structure($"The {what} signature has {transformList.Count} transforms; at most two are expected.");
            foreach (var transform in transformList)
            {
                var algorithm = SecureXml.Attribute(transform, "Algorithm");
                if (!Is(transform, SamlNamespaces.XmlDsig, "Transform") || algorithm is null || !AllowedTransforms.Contains(algorithm))
                    return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                        $"The {what} signature uses the transform '{SamlFailure.Shown(algorithm)}'; only enveloped-signature and exclusive c14n are accepted.",
                        Actual: algorithm);
            }
        }

        var digest = SecureXml.ChildElement(reference, SamlNamespaces.XmlDsig, "DigestMethod");
        var digestMethod = digest is null ? null : SecureXml.Attribute(digest, "Algorithm");
        if (digestMethod == SamlAlgorithms.Sha1 && !allowSha1)
            return new SamlFailure(SamlFailureKind.WeakAlgorithm,
                $"The {what} signature uses a SHA-1 digest; configure the IdP to use SHA-256, or allow SHA-1 on this connection.",
                SamlAlgorithms.Sha256, digestMethod);
        if (digestMethod is null || !(StrongDigestMethods.Contains(digestMethod) || digestMethod == SamlAlgorithms.Sha1))
            return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                $"The {what} signature digest '{SamlFailure.Shown(digestMethod)}' is not accepted; use SHA-256, SHA-384 or SHA-512.",
                SamlAlgorithms.Sha256, digestMethod);
        return signatureMethod;
    }

    private static string? EmbeddedCertificateThumbprint(XmlElement signature)
    {
        var value = signature.GetElementsByTagName("X509Certificate", SamlNamespaces.XmlDsig).OfType<XmlElement>().FirstOrDefault();
        if (value is null) return null;
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(value.InnerText.Trim()));
            return certificate.GetCertHashString(HashAlgorithmName.SHA256);
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }
    }

    private static bool Is(XmlElement element, string namespaceUri, string localName) =>
        element.LocalName == localName && element.NamespaceURI == namespaceUri;

    /// <summary>
    /// Each certificate's public key, imported once per certificate object rather than once per
    /// signature (the import costs more than the verification). A cached connection's certificates
    /// are one set of objects until it changes, so its keys live as long as it does.
    /// </summary>
    private static readonly ConditionalWeakTable<X509Certificate2, PublicKeyPool> PublicKeys = new();

    /// <summary>A key is lent to one verification at a time: an RSA or ECDsa object is not documented as thread-safe.</summary>
    private sealed class PublicKeyPool(X509Certificate2 certificate)
    {
        private const int MaxIdle = 16;
        private readonly ConcurrentBag<AsymmetricAlgorithm> _rsa = [];
        private readonly ConcurrentBag<AsymmetricAlgorithm> _ecdsa = [];

        public bool StrongEnough { get; } = SigningKeyStrength.WhyTooWeak(certificate) is null;

        public AsymmetricAlgorithm? Rent(bool ecdsa) =>
            (ecdsa ? _ecdsa : _rsa).TryTake(out var key) ? key
            : ecdsa ? certificate.GetECDsaPublicKey()
            : certificate.GetRSAPublicKey();

        public void Return(AsymmetricAlgorithm key, bool ecdsa)
        {
            var idle = ecdsa ? _ecdsa : _rsa;
            if (idle.Count < MaxIdle) idle.Add(key);
            else key.Dispose();
        }
    }
}

/// <summary>
/// A SignedXml whose references resolve only through the SAML <c>ID</c> attribute (not
/// <c>Id</c>, <c>id</c> or wsu:Id, which the base class also tries) and only to the element the
/// signature was found in, and only when no other element carries that ID.
/// </summary>
internal sealed class StrictIdSignedXml : SignedXml
{
    private readonly XmlElement _signedElement;

    [UnconditionalSuppressMessage("Trimming", "IL2026",
        Justification = "The publish roots System.Security.Cryptography.Xml and keeps the digest and formatter types (DESIGN §5); an AOT test signs and verifies.")]
    [UnconditionalSuppressMessage("AOT", "IL3050",
        Justification = "Only exclusive c14n and enveloped-signature are allowed (CheckSignedInfo), never the XSLT transform.")]
    private StrictIdSignedXml(XmlElement signedElement) : base(signedElement)
    {
        _signedElement = signedElement;
    }

    public static StrictIdSignedXml Create(XmlElement signedElement)
    {
        XmlSignatureAlgorithms.EnsureRegistered();
        return new StrictIdSignedXml(signedElement);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "See Create.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "See Create.")]
    public static bool Check(SignedXml signedXml, AsymmetricAlgorithm key) => signedXml.CheckSignature(key);

    public override XmlElement? GetIdElement(XmlDocument? document, string idValue)
    {
        if (document?.DocumentElement is not { } root) return null;
        XmlElement? found = null;
        foreach (var element in SecureXml.DescendantsAndSelf(root))
        {
            if (SecureXml.Attribute(element, "ID") != idValue) continue;
            if (found is not null) return null;
            found = element;
        }
        return ReferenceEquals(found, _signedElement) ? found : null;
    }
}
