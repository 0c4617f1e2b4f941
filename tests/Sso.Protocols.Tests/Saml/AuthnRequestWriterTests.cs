using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;
using System.Text;
using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class AuthnRequestWriterTests
{
    private static readonly AuthnRequest Request = new()
    {
        Id = "_a1b2c3",
        IssueInstant = SamlTestIdp.Now,
        Issuer = SamlTestIdp.SpEntityId,
        Destination = "https://login.microsoftonline.com/tenant-id/saml2",
        AssertionConsumerServiceUrl = SamlTestIdp.AcsUrl,
        NameIdFormat = SamlUris.EmailNameIdFormat,
    };

    private static Dictionary<string, string> RawQuery(Uri url) =>
        url.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public void Writes_a_redirect_whose_SAMLRequest_inflates_to_the_request()
    {
        var url = AuthnRequestWriter.WriteRedirectUrl(Request, "rs_7Hx2");

        Assert.StartsWith("https://login.microsoftonline.com/tenant-id/saml2?SAMLRequest=", url.AbsoluteUri);
        var query = RawQuery(url);
        Assert.Equal("rs_7Hx2", Uri.UnescapeDataString(query["RelayState"]));
        Assert.False(query.ContainsKey("Signature"));

        var xml = SamlTestIdp.Load(AuthnRequestWriter.InflateSamlRequest(Uri.UnescapeDataString(query["SAMLRequest"])));
        var root = xml.DocumentElement!;
        Assert.Equal("AuthnRequest", root.LocalName);
        Assert.Equal("urn:oasis:names:tc:SAML:2.0:protocol", root.NamespaceURI);
        Assert.Equal("_a1b2c3", root.GetAttribute("ID"));
        Assert.Equal("2.0", root.GetAttribute("Version"));
        Assert.Equal("2026-03-10T09:30:00Z", root.GetAttribute("IssueInstant"));
        Assert.Equal(Request.Destination, root.GetAttribute("Destination"));
        Assert.Equal(SamlTestIdp.AcsUrl, root.GetAttribute("AssertionConsumerServiceURL"));
        Assert.Equal(SamlUris.HttpPostBinding, root.GetAttribute("ProtocolBinding"));
        Assert.Equal(SamlTestIdp.SpEntityId, root.GetElementsByTagName("Issuer", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!.InnerText);
        var policy = (XmlElement)root.GetElementsByTagName("NameIDPolicy", "urn:oasis:names:tc:SAML:2.0:protocol")[0]!;
        Assert.Equal(SamlUris.EmailNameIdFormat, policy.GetAttribute("Format"));
    }

    [Fact]
    public void Signs_the_exact_query_octets_of_a_redirect()
    {
        var url = AuthnRequestWriter.WriteRedirectUrl(Request, "rs_7Hx2", SamlTestIdp.SigningCertificate);

        var raw = url.Query.TrimStart('?');
        var signedPart = raw[..raw.IndexOf("&Signature=", StringComparison.Ordinal)];
        Assert.Matches("^SAMLRequest=[^&]+&RelayState=rs_7Hx2&SigAlg=[^&]+$", signedPart);
        var query = RawQuery(url);
        Assert.Equal(SamlAlgorithms.RsaSha256, Uri.UnescapeDataString(query["SigAlg"]));

        using var rsa = SamlTestIdp.SigningCertificate.GetRSAPublicKey()!;
        var signature = Convert.FromBase64String(Uri.UnescapeDataString(query["Signature"]));
        Assert.True(rsa.VerifyData(Encoding.UTF8.GetBytes(signedPart), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.False(rsa.VerifyData(Encoding.UTF8.GetBytes(signedPart + "x"), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void Appends_to_a_destination_that_already_has_a_query()
    {
        var url = AuthnRequestWriter.WriteRedirectUrl(Request with { Destination = "https://accounts.google.com/o/saml2/idp?idpid=C0abc" }, null);

        Assert.StartsWith("https://accounts.google.com/o/saml2/idp?idpid=C0abc&SAMLRequest=", url.AbsoluteUri);
        Assert.DoesNotContain("RelayState", url.AbsoluteUri);
    }

    [Fact]
    public void Refuses_a_RelayState_longer_than_80_bytes()
    {
        Assert.Throws<ArgumentException>(() => AuthnRequestWriter.WriteRedirectUrl(Request, new string('r', 81)));
        Assert.NotNull(AuthnRequestWriter.WriteRedirectUrl(Request, new string('r', 80)));
    }

    [Fact]
    public void Escapes_values_in_the_request_xml()
    {
        var xml = AuthnRequestWriter.WriteXml(Request with { Issuer = "https://sp.example.test/?a=1&b=<2>" });
        Assert.Equal("https://sp.example.test/?a=1&b=<2>", SamlTestIdp.Load(xml).GetElementsByTagName("Issuer", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!.InnerText);
    }

    [Fact]
    public void Writes_a_post_form_with_an_enveloped_signature()
    {
        var html = AuthnRequestWriter.WritePostForm(Request, "rs\"<x>", SamlTestIdp.SigningCertificate);

        Assert.Contains("action=\"https://login.microsoftonline.com/tenant-id/saml2\"", html);
        Assert.Contains("name=\"RelayState\" value=\"rs&quot;&lt;x&gt;\"", html);
        var value = html.Split("name=\"SAMLRequest\" value=\"")[1].Split('"')[0];
        var document = SamlTestIdp.Load(Encoding.UTF8.GetString(Convert.FromBase64String(value)));

        var signature = (XmlElement)document.GetElementsByTagName("Signature", "http://www.w3.org/2000/09/xmldsig#")[0]!;
        Assert.Same(document.DocumentElement, signature.ParentNode);
        Assert.Equal("Issuer", signature.PreviousSibling!.LocalName);
        var signedXml = new SignedXml(document);
        signedXml.LoadXml(signature);
        Assert.True(signedXml.CheckSignature(SamlTestIdp.SigningCertificate.GetRSAPublicKey()!));
    }

    [Fact]
    public void Makes_a_fresh_xs_ID_each_time()
    {
        var first = AuthnRequestWriter.NewId();
        Assert.Matches("^_[0-9a-f]{40}$", first);
        Assert.NotEqual(first, AuthnRequestWriter.NewId());
    }
}
