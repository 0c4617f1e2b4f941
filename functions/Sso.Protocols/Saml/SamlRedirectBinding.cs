using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Sso.Protocols.Saml;

/// <summary>
/// A SAML message as it arrived in a query string (bindings §3.4.4.1), nothing checked yet:
/// the inflated XML, RelayState, and the signature with the exact octets it must cover.
/// </summary>
public sealed record RedirectBindingMessage(
    byte[] UnverifiedXml,
    string? RelayState,
    string? SignatureAlgorithm,
    byte[]? Signature,
    byte[] SignedOctets);

/// <summary>
/// The HTTP-Redirect binding (bindings §3.4): DEFLATE (RFC 1951, no zlib header) then base64
/// then URL-encoding, and the detached signature over
/// <c>SAMLRequest=…&amp;RelayState=…&amp;SigAlg=…</c> (or <c>SAMLResponse=…</c>) exactly as the
/// values appear in the query string.
/// </summary>
public static class SamlRedirectBinding
{
    public const string RequestParameter = "SAMLRequest";
    public const string ResponseParameter = "SAMLResponse";

    /// <summary>Inflated messages larger than this are refused (a DEFLATE bomb stops here).</summary>
    public const int MaxInflatedBytes = 64 * 1024;

    public const int MaxQueryChars = 32 * 1024;

    private static readonly HashSet<string> StrongSignatureMethods =
    [
        SamlAlgorithms.RsaSha256, SamlAlgorithms.RsaSha384, SamlAlgorithms.RsaSha512,
        SamlAlgorithms.EcdsaSha256, SamlAlgorithms.EcdsaSha384, SamlAlgorithms.EcdsaSha512,
    ];

    public static string Encode(string xml)
    {
        using var output = new MemoryStream();
        using (var deflater = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
            deflater.Write(Encoding.UTF8.GetBytes(xml));
        return Convert.ToBase64String(output.ToArray());
    }

    public static Result<byte[], SamlFailure> Decode(string value)
    {
        byte[] compressed;
        try
        {
            compressed = Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            return new SamlFailure(SamlFailureKind.MalformedXml, "The SAML message in the query string is not valid base64.");
        }
        try
        {
            using var inflater = new DeflateStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[8192];
            int read;
            while ((read = inflater.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > MaxInflatedBytes)
                    return new SamlFailure(SamlFailureKind.TooLarge,
                        $"The SAML message inflates to more than {MaxInflatedBytes} bytes.");
                output.Write(buffer, 0, read);
            }
            return output.ToArray();
        }
        catch (InvalidDataException)
        {
            return new SamlFailure(SamlFailureKind.MalformedXml,
                "The SAML message in the query string is not DEFLATE-compressed (HTTP-Redirect binding, bindings §3.4.4.1).");
        }
    }

    /// <summary>
    /// The URL that carries <paramref name="xml"/> to <paramref name="destination"/>; when a
    /// certificate is given, signed over the query octets with its private key.
    /// </summary>
    public static Uri WriteUrl(string destination, string parameter, string xml, string? relayState,
        X509Certificate2? signingCertificate, string signatureAlgorithm = SamlAlgorithms.RsaSha256)
    {
        if (relayState is not null && Encoding.UTF8.GetByteCount(relayState) > AuthnRequestWriter.MaxRelayStateBytes)
            throw new ArgumentException($"RelayState is limited to {AuthnRequestWriter.MaxRelayStateBytes} bytes (bindings §3.4.3).", nameof(relayState));
        var query = new StringBuilder(parameter).Append('=').Append(Uri.EscapeDataString(Encode(xml)));
        if (relayState is not null) query.Append("&RelayState=").Append(Uri.EscapeDataString(relayState));
        if (signingCertificate is not null)
        {
            query.Append("&SigAlg=").Append(Uri.EscapeDataString(signatureAlgorithm));
            var signature = SamlXmlSigner.SignBytes(Encoding.UTF8.GetBytes(query.ToString()), signingCertificate, signatureAlgorithm);
            query.Append("&Signature=").Append(Uri.EscapeDataString(Convert.ToBase64String(signature)));
        }
        var separator = destination.Contains('?') ? '&' : '?';
        return new Uri(destination + separator + query);
    }

    /// <summary>
    /// Reads <paramref name="parameter"/> (SAMLRequest or SAMLResponse), RelayState, SigAlg and
    /// Signature from a raw query string (without '?', still URL-encoded). Each may appear once.
    /// </summary>
    public static Result<RedirectBindingMessage, SamlFailure> Read(string rawQuery, string parameter)
    {
        if (rawQuery.Length > MaxQueryChars)
            return new SamlFailure(SamlFailureKind.TooLarge, $"The query string is longer than {MaxQueryChars} characters.");
        var raw = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in rawQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var name = equals < 0 ? pair : pair[..equals];
            if (name is not (RequestParameter or ResponseParameter or "RelayState" or "SigAlg" or "Signature")) continue;
            if (!raw.TryAdd(name, equals < 0 ? "" : pair[(equals + 1)..]))
                return SamlFailure.Structure($"The query string carries '{name}' more than once.");
        }
        if (!raw.TryGetValue(parameter, out var encodedMessage) || encodedMessage.Length == 0)
            return new SamlFailure(SamlFailureKind.MalformedXml, $"The query string has no {parameter}.");

        // '+' is left as is: it is a base64 character that some senders do not percent-encode.
        var xml = Decode(Uri.UnescapeDataString(encodedMessage));
        if (!xml.IsSuccess) return xml.Error;

        // Bindings §3.4.4.1: the signed octets are the parameters in this order, as received.
        var signed = new StringBuilder(parameter).Append('=').Append(encodedMessage);
        if (raw.TryGetValue("RelayState", out var relayState)) signed.Append("&RelayState=").Append(relayState);
        if (raw.TryGetValue("SigAlg", out var sigAlg)) signed.Append("&SigAlg=").Append(sigAlg);

        byte[]? signature = null;
        if (raw.TryGetValue("Signature", out var encodedSignature))
        {
            try
            {
                signature = Convert.FromBase64String(Uri.UnescapeDataString(encodedSignature));
            }
            catch (FormatException)
            {
                return new SamlFailure(SamlFailureKind.SignatureInvalid, "The Signature parameter is not valid base64.");
            }
        }
        return new RedirectBindingMessage(
            xml.Value,
            relayState is null ? null : Uri.UnescapeDataString(relayState),
            sigAlg is null ? null : Uri.UnescapeDataString(sigAlg),
            signature,
            Encoding.UTF8.GetBytes(signed.ToString()));
    }

    /// <summary>
    /// Checks the detached signature against the connection's IdP certificates; null when it
    /// verifies. An unsigned message is a failure: this service acts only on signed ones.
    /// </summary>
    public static SamlFailure? VerifySignature(RedirectBindingMessage message, IReadOnlyList<X509Certificate2> idpCertificates,
        bool allowSha1)
    {
        if (message.Signature is null || message.SignatureAlgorithm is null)
            return new SamlFailure(SamlFailureKind.SignatureMissing,
                "The message carries no Signature and SigAlg; configure the IdP to sign its logout messages.");
        var algorithm = message.SignatureAlgorithm;
        if (algorithm == SamlAlgorithms.RsaSha1 && !allowSha1)
            return new SamlFailure(SamlFailureKind.WeakAlgorithm,
                "The message is signed with RSA-SHA1; configure the IdP to sign with RSA-SHA256, or allow SHA-1 on this connection.",
                SamlAlgorithms.RsaSha256, algorithm);
        if (!StrongSignatureMethods.Contains(algorithm) && algorithm != SamlAlgorithms.RsaSha1)
            return new SamlFailure(SamlFailureKind.UnsupportedAlgorithm,
                $"The SigAlg '{SamlFailure.Shown(algorithm)}' is not accepted; use RSA-SHA256/384/512 or ECDSA-SHA256/384/512.",
                SamlAlgorithms.RsaSha256, algorithm);
        var hash = algorithm switch
        {
            SamlAlgorithms.RsaSha1 => HashAlgorithmName.SHA1,
            SamlAlgorithms.RsaSha384 or SamlAlgorithms.EcdsaSha384 => HashAlgorithmName.SHA384,
            SamlAlgorithms.RsaSha512 or SamlAlgorithms.EcdsaSha512 => HashAlgorithmName.SHA512,
            _ => HashAlgorithmName.SHA256,
        };
        if (idpCertificates.Count == 0)
            return new SamlFailure(SamlFailureKind.UntrustedCertificate, "The connection has no IdP signing certificate configured.");
        foreach (var certificate in idpCertificates)
        {
            try
            {
                if (XmlSignatureAlgorithms.IsEcdsa(algorithm))
                {
                    using var ecdsa = certificate.GetECDsaPublicKey();
                    if (ecdsa is not null && ecdsa.VerifyData(message.SignedOctets, message.Signature, hash)) return null;
                }
                else
                {
                    using var rsa = certificate.GetRSAPublicKey();
                    if (rsa is not null && rsa.VerifyData(message.SignedOctets, message.Signature, hash, RSASignaturePadding.Pkcs1)) return null;
                }
            }
            catch (CryptographicException)
            {
                // A signature of the wrong length for this key: this certificate did not verify it.
            }
        }
        return new SamlFailure(SamlFailureKind.SignatureInvalid,
            "The query-string signature does not verify against the connection's IdP certificate(s); the message was altered or signed with another key.");
    }
}
