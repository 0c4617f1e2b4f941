using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>An AuthnRequest this service sends to an IdP (core §3.4.1).</summary>
public sealed record AuthnRequest
{
    /// <summary>An xs:ID (starts with a letter or '_'); <see cref="AuthnRequestWriter.NewId"/> makes one.</summary>
    public required string Id { get; init; }
    public required DateTimeOffset IssueInstant { get; init; }

    /// <summary>Our SP entity ID for the connection.</summary>
    public required string Issuer { get; init; }

    /// <summary>The IdP's SingleSignOnService URL for the binding used.</summary>
    public required string Destination { get; init; }

    public required string AssertionConsumerServiceUrl { get; init; }
    public string? NameIdFormat { get; init; }
    public bool ForceAuthn { get; init; }
}

/// <summary>Writes AuthnRequests for the HTTP-Redirect (bindings §3.4) and HTTP-POST (§3.5) bindings.</summary>
public static class AuthnRequestWriter
{
    /// <summary>Bindings §3.4.3 / §3.5.3: RelayState MUST NOT exceed 80 bytes.</summary>
    public const int MaxRelayStateBytes = 80;

    public static string NewId() => "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public static string WriteXml(AuthnRequest request) => Build(request).OuterXml;

    /// <summary>
    /// The URL to redirect the browser to: <c>SAMLRequest</c> is the DEFLATE-compressed,
    /// base64, URL-encoded request (§3.4.4.1); when a certificate is given, <c>SigAlg</c> and
    /// <c>Signature</c> sign the exact octets <c>SAMLRequest=…&amp;RelayState=…&amp;SigAlg=…</c>.
    /// </summary>
    public static Uri WriteRedirectUrl(AuthnRequest request, string? relayState,
        X509Certificate2? signingCertificate = null, string signatureAlgorithm = SamlAlgorithms.RsaSha256)
    {
        CheckRelayState(relayState);
        var query = new StringBuilder("SAMLRequest=").Append(Uri.EscapeDataString(Deflate(WriteXml(request))));
        if (relayState is not null) query.Append("&RelayState=").Append(Uri.EscapeDataString(relayState));
        if (signingCertificate is not null)
        {
            query.Append("&SigAlg=").Append(Uri.EscapeDataString(signatureAlgorithm));
            var signature = SamlXmlSigner.SignBytes(Encoding.UTF8.GetBytes(query.ToString()), signingCertificate, signatureAlgorithm);
            query.Append("&Signature=").Append(Uri.EscapeDataString(Convert.ToBase64String(signature)));
        }
        var separator = request.Destination.Contains('?') ? '&' : '?';
        return new Uri(request.Destination + separator + query);
    }

    /// <summary>
    /// An HTML page that posts the (optionally enveloped-signed) request to the IdP as soon as
    /// it loads, with a button for browsers without script (§3.5.4).
    /// </summary>
    public static string WritePostForm(AuthnRequest request, string? relayState,
        X509Certificate2? signingCertificate = null, string signatureAlgorithm = SamlAlgorithms.RsaSha256)
    {
        CheckRelayState(relayState);
        var document = Build(request);
        if (signingCertificate is not null)
            SamlXmlSigner.SignEnveloped(document.DocumentElement!, signingCertificate, signatureAlgorithm);
        var samlRequest = Convert.ToBase64String(Encoding.UTF8.GetBytes(document.OuterXml));

        List<KeyValuePair<string, string>> fields = [new("SAMLRequest", samlRequest)];
        if (relayState is not null) fields.Add(new("RelayState", relayState));
        return SamlPostBinding.Page("Signing in", request.Destination, fields, "Continue to your identity provider to sign in.");
    }

    /// <summary>Reverses the redirect encoding, for tests. Never for input from outside: no size limit.</summary>
    internal static string InflateSamlRequest(string samlRequest)
    {
        using var input = new MemoryStream(Convert.FromBase64String(samlRequest));
        using var inflater = new DeflateStream(input, CompressionMode.Decompress);
        using var reader = new StreamReader(inflater, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string Deflate(string xml)
    {
        using var output = new MemoryStream();
        using (var deflater = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
            deflater.Write(Encoding.UTF8.GetBytes(xml));
        return Convert.ToBase64String(output.ToArray());
    }

    private static void CheckRelayState(string? relayState)
    {
        if (relayState is not null && Encoding.UTF8.GetByteCount(relayState) > MaxRelayStateBytes)
            throw new ArgumentException($"RelayState is limited to {MaxRelayStateBytes} bytes (SAML bindings §3.4.3).", nameof(relayState));
    }

    private static XmlDocument Build(AuthnRequest request)
    {
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        var root = document.CreateElement("samlp", "AuthnRequest", SamlNamespaces.Protocol);
        root.SetAttribute("xmlns:saml", SamlNamespaces.Assertion);
        root.SetAttribute("ID", request.Id);
        root.SetAttribute("Version", "2.0");
        root.SetAttribute("IssueInstant", request.IssueInstant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        root.SetAttribute("Destination", request.Destination);
        root.SetAttribute("AssertionConsumerServiceURL", request.AssertionConsumerServiceUrl);
        root.SetAttribute("ProtocolBinding", SamlUris.HttpPostBinding);
        if (request.ForceAuthn) root.SetAttribute("ForceAuthn", "true");
        document.AppendChild(root);

        var issuer = document.CreateElement("saml", "Issuer", SamlNamespaces.Assertion);
        issuer.InnerText = request.Issuer;
        root.AppendChild(issuer);

        var policy = document.CreateElement("samlp", "NameIDPolicy", SamlNamespaces.Protocol);
        if (request.NameIdFormat is not null) policy.SetAttribute("Format", request.NameIdFormat);
        policy.SetAttribute("AllowCreate", "true");
        root.AppendChild(policy);
        return document;
    }
}
