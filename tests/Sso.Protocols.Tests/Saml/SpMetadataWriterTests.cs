using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class SpMetadataWriterTests
{
    private const string Md = "urn:oasis:names:tc:SAML:2.0:metadata";

    [Fact]
    public void Writes_entity_id_acs_name_id_formats_and_both_kinds_of_key()
    {
        var xml = SpMetadataWriter.Write(new SpMetadata
        {
            EntityId = SamlTestIdp.SpEntityId,
            AcsUrl = SamlTestIdp.AcsUrl,
            SigningCertificates = [SamlTestIdp.PublicOnly(SamlTestIdp.SigningCertificate)],
            EncryptionCertificates = [SamlTestIdp.PublicOnly(SamlTestIdp.SpEncryptionCertificate)],
            AuthnRequestsSigned = true,
        });

        var document = SamlTestIdp.Load(xml);
        var root = document.DocumentElement!;
        Assert.Equal(SamlTestIdp.SpEntityId, root.GetAttribute("entityID"));
        var sp = (XmlElement)root.GetElementsByTagName("SPSSODescriptor", Md)[0]!;
        Assert.Equal("true", sp.GetAttribute("AuthnRequestsSigned"));
        Assert.Equal("true", sp.GetAttribute("WantAssertionsSigned"));
        var acs = (XmlElement)sp.GetElementsByTagName("AssertionConsumerService", Md)[0]!;
        Assert.Equal(SamlUris.HttpPostBinding, acs.GetAttribute("Binding"));
        Assert.Equal(SamlTestIdp.AcsUrl, acs.GetAttribute("Location"));
        Assert.Contains(SamlUris.EmailNameIdFormat, sp.GetElementsByTagName("NameIDFormat", Md).OfType<XmlElement>().Select(e => e.InnerText));

        var keys = sp.GetElementsByTagName("KeyDescriptor", Md).OfType<XmlElement>().ToDictionary(k => k.GetAttribute("use"));
        Assert.Equal(Convert.ToBase64String(SamlTestIdp.SigningCertificate.RawData), keys["signing"].InnerText);
        Assert.StartsWith(Convert.ToBase64String(SamlTestIdp.SpEncryptionCertificate.RawData), keys["encryption"].InnerText);
        Assert.Contains(SamlAlgorithms.Aes256Gcm, keys["encryption"].InnerXml);
        Assert.Empty(sp.GetElementsByTagName("SingleLogoutService", Md));
        Assert.DoesNotContain("PRIVATE", xml);
    }

    [Fact]
    public void Writes_a_single_logout_endpoint_only_when_given()
    {
        var xml = SpMetadataWriter.Write(new SpMetadata { EntityId = "https://sp", AcsUrl = "https://sp/acs", SingleLogoutUrl = "https://sp/slo" });
        var slo = SamlTestIdp.Load(xml).GetElementsByTagName("SingleLogoutService", Md).OfType<XmlElement>().ToList();
        Assert.All(slo, s => Assert.Equal("https://sp/slo", s.GetAttribute("Location")));
        Assert.Equal([SamlUris.HttpRedirectBinding, SamlUris.HttpPostBinding], slo.Select(s => s.GetAttribute("Binding")));
    }
}
