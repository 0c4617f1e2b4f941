using System.Security.Cryptography.X509Certificates;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>What a connection publishes as SP (metadata 2.0 §2.4.4).</summary>
public sealed record SpMetadata
{
    public required string EntityId { get; init; }
    public required string AcsUrl { get; init; }
    public IReadOnlyList<string> NameIdFormats { get; init; } =
        [SamlUris.EmailNameIdFormat, SamlUris.PersistentNameIdFormat, SamlUris.UnspecifiedNameIdFormat];

    /// <summary>Signs our AuthnRequests; the next certificate goes here too during a rollover.</summary>
    public IReadOnlyList<X509Certificate2> SigningCertificates { get; init; } = [];

    /// <summary>IdPs encrypt assertions to these.</summary>
    public IReadOnlyList<X509Certificate2> EncryptionCertificates { get; init; } = [];

    public string? SingleLogoutUrl { get; init; }
    public bool AuthnRequestsSigned { get; init; }
}

public static class SpMetadataWriter
{
    // What SamlAssertionDecryptor accepts, strongest first (metadata §2.4.1.1 EncryptionMethod).
    private static readonly string[] EncryptionMethods =
    [
        SamlAlgorithms.Aes256Gcm, SamlAlgorithms.Aes128Gcm, SamlAlgorithms.Aes256Cbc, SamlAlgorithms.Aes128Cbc,
        SamlAlgorithms.RsaOaepMgf1p,
    ];

    public static string Write(SpMetadata metadata)
    {
        var document = new XmlDocument { XmlResolver = null };
        var entity = document.CreateElement("md", "EntityDescriptor", SamlNamespaces.Metadata);
        entity.SetAttribute("xmlns:ds", SamlNamespaces.XmlDsig);
        entity.SetAttribute("entityID", metadata.EntityId);
        document.AppendChild(entity);

        var sp = Append(entity, "SPSSODescriptor");
        sp.SetAttribute("AuthnRequestsSigned", metadata.AuthnRequestsSigned ? "true" : "false");
        sp.SetAttribute("WantAssertionsSigned", "true");
        sp.SetAttribute("protocolSupportEnumeration", SamlUris.Saml20Protocol);

        foreach (var certificate in metadata.SigningCertificates) AppendKey(sp, "signing", certificate, withMethods: false);
        foreach (var certificate in metadata.EncryptionCertificates) AppendKey(sp, "encryption", certificate, withMethods: true);

        if (metadata.SingleLogoutUrl is { } slo)
            foreach (var binding in new[] { SamlUris.HttpRedirectBinding, SamlUris.HttpPostBinding })
            {
                var logout = Append(sp, "SingleLogoutService");
                logout.SetAttribute("Binding", binding);
                logout.SetAttribute("Location", slo);
            }
        foreach (var format in metadata.NameIdFormats) Append(sp, "NameIDFormat").InnerText = format;

        var acs = Append(sp, "AssertionConsumerService");
        acs.SetAttribute("Binding", SamlUris.HttpPostBinding);
        acs.SetAttribute("Location", metadata.AcsUrl);
        acs.SetAttribute("index", "0");
        acs.SetAttribute("isDefault", "true");

        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + document.OuterXml;
    }

    private static void AppendKey(XmlElement sp, string use, X509Certificate2 certificate, bool withMethods)
    {
        var descriptor = Append(sp, "KeyDescriptor");
        descriptor.SetAttribute("use", use);
        var keyInfo = descriptor.AppendChild(sp.OwnerDocument.CreateElement("ds", "KeyInfo", SamlNamespaces.XmlDsig))!;
        var data = keyInfo.AppendChild(sp.OwnerDocument.CreateElement("ds", "X509Data", SamlNamespaces.XmlDsig))!;
        data.AppendChild(sp.OwnerDocument.CreateElement("ds", "X509Certificate", SamlNamespaces.XmlDsig))!.InnerText =
            Convert.ToBase64String(certificate.RawData);
        if (!withMethods) return;
        foreach (var method in EncryptionMethods) Append(descriptor, "EncryptionMethod").SetAttribute("Algorithm", method);
    }

    private static XmlElement Append(XmlElement parent, string localName) =>
        (XmlElement)parent.AppendChild(parent.OwnerDocument.CreateElement("md", localName, SamlNamespaces.Metadata))!;
}
