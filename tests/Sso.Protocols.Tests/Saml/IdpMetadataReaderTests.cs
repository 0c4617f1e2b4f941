using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class IdpMetadataReaderTests
{
    private static readonly X509Certificate2 WsFedCertificate = SamlTestIdp.NextSigningCertificate;

    private static string Base64(X509Certificate2 certificate, bool wrapped = false) =>
        Convert.ToBase64String(certificate.RawData, wrapped ? Base64FormattingOptions.InsertLineBreaks : Base64FormattingOptions.None);

    // Shaped like Entra ID's app federation metadata: default namespaces, a WS-Fed RoleDescriptor first.
    private static string EntraMetadata(X509Certificate2 certificate) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <EntityDescriptor ID="_0a1b2c3d" entityID="https://sts.windows.net/7e1f0c2a-0000-4000-8000-1234567890ab/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
          <RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">
            <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{Base64(WsFedCertificate)}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
          </RoleDescriptor>
          <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
            <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>
            {Base64(certificate, wrapped: true)}
            </X509Certificate></X509Data></KeyInfo></KeyDescriptor>
            <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/7e1f0c2a-0000-4000-8000-1234567890ab/saml2" />
            <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/7e1f0c2a-0000-4000-8000-1234567890ab/saml2" />
            <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/7e1f0c2a-0000-4000-8000-1234567890ab/saml2" />
          </IDPSSODescriptor>
        </EntityDescriptor>
        """;

    // Shaped like Okta's app metadata: md: prefix, WantAuthnRequestsSigned, NameIDFormats.
    private static string OktaMetadata(string keyDescriptors) => $"""
        <?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor entityID="http://www.okta.com/exk1a2b3c4d5E6f7g8" xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keyDescriptors}<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://acme.okta.com/app/acme_sso_1/exk1a2b3c4d5E6f7g8/sso/saml"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://acme.okta.com/app/acme_sso_1/exk1a2b3c4d5E6f7g8/sso/saml"/></md:IDPSSODescriptor></md:EntityDescriptor>
        """;

    private static string Key(X509Certificate2 certificate, string? use) =>
        $"""<md:KeyDescriptor{(use is null ? "" : $" use=\"{use}\"")}><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{Base64(certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>""";

    private static string Thumbprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    [Fact]
    public void Reads_Entra_ID_metadata_from_the_IDPSSODescriptor_only()
    {
        var metadata = IdpMetadataReader.Read(EntraMetadata(SamlTestIdp.SigningCertificate), SamlTestIdp.Now);

        Assert.True(metadata.IsSuccess, metadata.ToString());
        var idp = metadata.Value;
        Assert.Equal("https://sts.windows.net/7e1f0c2a-0000-4000-8000-1234567890ab/", idp.EntityId);
        Assert.Equal("https://login.microsoftonline.com/7e1f0c2a-0000-4000-8000-1234567890ab/saml2", idp.SingleSignOnUrl(SamlUris.HttpRedirectBinding));
        Assert.Equal("https://login.microsoftonline.com/7e1f0c2a-0000-4000-8000-1234567890ab/saml2", idp.SingleSignOnUrl(SamlUris.HttpPostBinding));
        var logout = Assert.Single(idp.SingleLogoutServices);
        Assert.Equal(logout, idp.SingleLogoutService(SamlUris.HttpRedirectBinding));
        Assert.Null(logout.ResponseLocation);
        Assert.Null(idp.SingleLogoutService(SamlUris.HttpPostBinding));
        Assert.Equal([Thumbprint(SamlTestIdp.SigningCertificate)], idp.SigningCertificates.Select(Thumbprint));
        Assert.False(idp.SigningCertificates[0].HasPrivateKey);
        Assert.Empty(idp.Warnings);
    }

    [Fact]
    public void Reads_SingleLogoutService_bindings_with_their_ResponseLocation()
    {
        const string firstFormat = "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
        var xml = OktaMetadata(Key(SamlTestIdp.SigningCertificate, "signing")).Replace(firstFormat,
            """<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://acme.okta.com/slo/post"/>""" +
            """<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://acme.okta.com/slo" ResponseLocation="https://acme.okta.com/slo/done"/>""" +
            firstFormat);
        var idp = IdpMetadataReader.Read(xml, SamlTestIdp.Now);

        Assert.True(idp.IsSuccess, idp.ToString());
        Assert.Equal(new SamlEndpoint(SamlUris.HttpRedirectBinding, "https://acme.okta.com/slo", "https://acme.okta.com/slo/done"),
            idp.Value.SingleLogoutService(SamlUris.HttpRedirectBinding));
        Assert.Equal(new SamlEndpoint(SamlUris.HttpPostBinding, "https://acme.okta.com/slo/post"), idp.Value.SingleLogoutService(SamlUris.HttpPostBinding));
    }

    [Fact]
    public void Refuses_a_SingleLogoutService_whose_ResponseLocation_is_not_a_URL()
    {
        var xml = OktaMetadata(Key(SamlTestIdp.SigningCertificate, "signing")).Replace("<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            """<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://acme.okta.com/slo" ResponseLocation="/relative"/><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified""");
        var idp = IdpMetadataReader.Read(xml, SamlTestIdp.Now);

        Assert.False(idp.IsSuccess);
        Assert.Contains("ResponseLocation", idp.Error.Message);
    }

    [Fact]
    public void Reads_Okta_metadata_with_its_NameID_formats_and_request_signing_wish()
    {
        var metadata = IdpMetadataReader.Read(OktaMetadata(Key(SamlTestIdp.SigningCertificate, "signing")), SamlTestIdp.Now);

        Assert.True(metadata.IsSuccess, metadata.ToString());
        Assert.Equal("http://www.okta.com/exk1a2b3c4d5E6f7g8", metadata.Value.EntityId);
        Assert.True(metadata.Value.WantAuthnRequestsSigned);
        Assert.Equal([SamlUris.UnspecifiedNameIdFormat, SamlUris.EmailNameIdFormat], metadata.Value.NameIdFormats);
        Assert.Equal("https://acme.okta.com/app/acme_sso_1/exk1a2b3c4d5E6f7g8/sso/saml", metadata.Value.SingleSignOnUrl(SamlUris.HttpPostBinding));
    }

    [Fact]
    public void Keeps_every_signing_certificate_for_rollover_and_skips_encryption_keys()
    {
        var keys = Key(SamlTestIdp.SigningCertificate, "signing") + Key(SamlTestIdp.NextSigningCertificate, null) +
                   Key(SamlTestIdp.SpEncryptionCertificate, "encryption") + Key(SamlTestIdp.SigningCertificate, "signing");

        var metadata = IdpMetadataReader.Read(OktaMetadata(keys), SamlTestIdp.Now);

        Assert.Equal([Thumbprint(SamlTestIdp.SigningCertificate), Thumbprint(SamlTestIdp.NextSigningCertificate)],
            metadata.Value.SigningCertificates.Select(Thumbprint));
    }

    [Fact]
    public void Warns_about_an_expired_certificate_without_refusing_the_metadata()
    {
        using var rsa = RSA.Create(2048);
        var expired = new CertificateRequest("CN=Old IdP", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(SamlTestIdp.Now.AddYears(-3), SamlTestIdp.Now.AddDays(-1));

        var metadata = IdpMetadataReader.Read(OktaMetadata(Key(expired, "signing")), SamlTestIdp.Now);

        Assert.True(metadata.IsSuccess);
        var warning = Assert.Single(metadata.Value.Warnings);
        Assert.Equal(IdpMetadataWarningKind.CertificateExpired, warning.Kind);
        Assert.Equal(Thumbprint(expired), warning.CertificateThumbprint);
    }

    [Fact]
    public void Warns_about_an_RSA_key_shorter_than_2048_bits()
    {
        using var rsa = RSA.Create(1024);
        var weak = new CertificateRequest("CN=Weak IdP", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(SamlTestIdp.Now.AddYears(-1), SamlTestIdp.Now.AddYears(1));

        var metadata = IdpMetadataReader.Read(OktaMetadata(Key(weak, "signing")), SamlTestIdp.Now);

        Assert.Equal(IdpMetadataWarningKind.WeakKey, Assert.Single(metadata.Value.Warnings).Kind);
    }

    [Fact]
    public void Reads_pasted_metadata_whose_declaration_says_utf_16()
    {
        var pasted = OktaMetadata(Key(SamlTestIdp.SigningCertificate, "signing"))
            .Replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<?xml version=\"1.0\" encoding=\"utf-16\"?>");
        Assert.True(IdpMetadataReader.Read(pasted, SamlTestIdp.Now).IsSuccess);
    }

    [Fact]
    public void Reads_the_one_IdP_inside_an_EntitiesDescriptor()
    {
        var okta = OktaMetadata(Key(SamlTestIdp.SigningCertificate, "signing")).Replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "");
        var xml = $"""<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{okta}</md:EntitiesDescriptor>""";
        Assert.True(IdpMetadataReader.Read(xml, SamlTestIdp.Now).IsSuccess);
    }

    public static TheoryData<string, string, SamlFailureKind> Rejections => new()
    {
        { "not XML", "<html><body>Sign in to continue", SamlFailureKind.MalformedXml },
        { "a DTD", """<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&x;"/>""", SamlFailureKind.DtdProhibited },
        { "an HTML page", "<html><body>Sign in</body></html>", SamlFailureKind.UnexpectedStructure },
        { "SP metadata", SpMetadataWriter.Write(new SpMetadata { EntityId = SamlTestIdp.SpEntityId, AcsUrl = SamlTestIdp.AcsUrl }), SamlFailureKind.NoIdpSsoDescriptor },
        { "only an encryption key", OktaMetadata(Key(SamlTestIdp.SigningCertificate, "encryption")), SamlFailureKind.NoSigningCertificate },
        { "no key at all", OktaMetadata(""), SamlFailureKind.NoSigningCertificate },
        { "a certificate that is not base64 DER", OktaMetadata("<md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>bm90IGEgY2VydA==</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"), SamlFailureKind.UnexpectedStructure },
        { "a relative SSO location", OktaMetadata(Key(SamlTestIdp.SigningCertificate, "signing")).Replace("https://acme.okta.com/app", "/app"), SamlFailureKind.UnexpectedStructure },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public void Reports_metadata_it_cannot_use(string name, string xml, SamlFailureKind kind)
    {
        var metadata = IdpMetadataReader.Read(xml, SamlTestIdp.Now);

        Assert.False(metadata.IsSuccess, name);
        Assert.Equal(kind, metadata.Error.Kind);
    }
}
