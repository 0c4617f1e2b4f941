using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <param name="ResponseLocation">Metadata §2.2.2: where responses go, when not to <paramref name="Location"/>.</param>
public sealed record SamlEndpoint(string Binding, string Location, string? ResponseLocation = null);

public enum IdpMetadataWarningKind { CertificateExpired, CertificateNotYetValid, WeakKey }

/// <summary>Something the IT admin should fix soon, but that does not stop the connection from being saved.</summary>
public sealed record IdpMetadataWarning(IdpMetadataWarningKind Kind, string Message, string CertificateThumbprint);

/// <summary>What this service needs from an IdP's metadata (SAML metadata 2.0 §2.4.3).</summary>
public sealed record IdpMetadata
{
    public required string EntityId { get; init; }
    public required IReadOnlyList<SamlEndpoint> SingleSignOnServices { get; init; }
    public required IReadOnlyList<SamlEndpoint> SingleLogoutServices { get; init; }

    /// <summary>Public certificates with use="signing" or no use; several during a rollover.</summary>
    public required IReadOnlyList<X509Certificate2> SigningCertificates { get; init; }

    public required IReadOnlyList<string> NameIdFormats { get; init; }
    public bool WantAuthnRequestsSigned { get; init; }
    public required IReadOnlyList<IdpMetadataWarning> Warnings { get; init; }

    /// <summary>The SingleLogoutService for a binding, or null when the IdP offers none.</summary>
    public SamlEndpoint? SingleLogoutService(string binding) => SingleLogoutServices.FirstOrDefault(s => s.Binding == binding);

    public string? SingleSignOnUrl(string binding) =>
        SingleSignOnServices.FirstOrDefault(s => s.Binding == binding)?.Location;
}

/// <summary>
/// Reads IdP metadata XML (an EntityDescriptor, or an EntitiesDescriptor holding one IdP).
/// Trust in the metadata comes from how it arrived (pasted by the admin, or fetched over
/// https); its own signature, if any, is not checked here.
/// </summary>
public static class IdpMetadataReader
{
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Metadata pasted as text: its XML declaration (often encoding="utf-16") no longer applies.</summary>
    public static Result<IdpMetadata, SamlFailure> Read(string metadataXml, DateTimeOffset now)
    {
        var text = metadataXml.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (text.StartsWith("<?xml", StringComparison.Ordinal) && text.IndexOf("?>", StringComparison.Ordinal) is var end and > 0)
            text = text[(end + 2)..];
        return Read(Encoding.UTF8.GetBytes(text), now);
    }

    public static Result<IdpMetadata, SamlFailure> Read(ReadOnlySpan<byte> metadataXml, DateTimeOffset now)
    {
        var document = SecureXml.Load(metadataXml, MaxBytes, "IdP metadata");
        if (!document.IsSuccess) return document.Error;
        var root = document.Value.DocumentElement!;

        var entity = FindIdpEntity(root);
        if (!entity.IsSuccess) return entity.Error;
        var (descriptor, idp) = entity.Value;

        var entityId = SecureXml.Attribute(descriptor, "entityID");
        if (string.IsNullOrWhiteSpace(entityId))
            return SamlFailure.Structure("The EntityDescriptor has no entityID.");

        var sso = Endpoints(idp, "SingleSignOnService");
        if (!sso.IsSuccess) return sso.Error;
        if (!sso.Value.Any(e => e.Binding is SamlUris.HttpRedirectBinding or SamlUris.HttpPostBinding))
            return SamlFailure.Structure("The IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding.");
        var slo = Endpoints(idp, "SingleLogoutService");
        if (!slo.IsSuccess) return slo.Error;

        var certificates = new List<X509Certificate2>();
        var warnings = new List<IdpMetadataWarning>();
        foreach (var keyDescriptor in SecureXml.ChildElements(idp, SamlNamespaces.Metadata, "KeyDescriptor"))
        {
            // Metadata §2.4.1.1: a KeyDescriptor without use is for signing and encryption.
            if (SecureXml.Attribute(keyDescriptor, "use") is { } use && use != "signing") continue;
            foreach (var value in keyDescriptor.GetElementsByTagName("X509Certificate", SamlNamespaces.XmlDsig).OfType<XmlElement>())
            {
                X509Certificate2 certificate;
                try
                {
                    var der = Convert.FromBase64String(string.Concat(value.InnerText.Where(c => !char.IsWhiteSpace(c))));
                    certificate = X509CertificateLoader.LoadCertificate(der);
                }
                catch (Exception e) when (e is FormatException or CryptographicException)
                {
                    return SamlFailure.Structure("A signing certificate in the IdP metadata is not a base64 DER X.509 certificate.");
                }
                var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
                if (certificates.Any(c => c.GetCertHashString(HashAlgorithmName.SHA256) == thumbprint)) continue;
                certificates.Add(certificate);
                using (var rsa = certificate.GetRSAPublicKey())
                    if (rsa is { KeySize: < 2048 })
                        warnings.Add(new IdpMetadataWarning(IdpMetadataWarningKind.WeakKey,
                            $"The IdP signing certificate '{certificate.Subject}' (SHA-256 {thumbprint}) has a {rsa.KeySize}-bit RSA key; " +
                            "generate a 2048-bit or larger signing certificate at the IdP.", thumbprint));
                if (certificate.NotAfter.ToUniversalTime() < now.UtcDateTime)
                    warnings.Add(new IdpMetadataWarning(IdpMetadataWarningKind.CertificateExpired,
                        $"The IdP signing certificate '{certificate.Subject}' (SHA-256 {thumbprint}) expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}; " +
                        "the IdP may still sign with it, but renew it at the IdP and update the metadata.", thumbprint));
                else if (certificate.NotBefore.ToUniversalTime() > now.UtcDateTime)
                    warnings.Add(new IdpMetadataWarning(IdpMetadataWarningKind.CertificateNotYetValid,
                        $"The IdP signing certificate '{certificate.Subject}' (SHA-256 {thumbprint}) is valid only from {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd}.",
                        thumbprint));
            }
        }
        if (certificates.Count == 0)
            return new SamlFailure(SamlFailureKind.NoSigningCertificate,
                "The IdP metadata has no signing certificate (KeyDescriptor use=\"signing\" with an X509Certificate); " +
                "download the metadata again from the IdP's SAML app, or add the certificate by hand.");

        var formats = SecureXml.ChildElements(idp, SamlNamespaces.Metadata, "NameIDFormat")
            .Select(f => f.InnerText.Trim()).Where(f => f.Length > 0).Distinct().ToList();

        return new IdpMetadata
        {
            EntityId = entityId.Trim(),
            SingleSignOnServices = sso.Value,
            SingleLogoutServices = slo.Value,
            SigningCertificates = certificates,
            NameIdFormats = formats,
            WantAuthnRequestsSigned = SecureXml.Attribute(idp, "WantAuthnRequestsSigned") is "true" or "1",
            Warnings = warnings,
        };
    }

    private static Result<(XmlElement Entity, XmlElement Idp), SamlFailure> FindIdpEntity(XmlElement root)
    {
        List<XmlElement> entities;
        if (root.NamespaceURI == SamlNamespaces.Metadata && root.LocalName == "EntityDescriptor")
            entities = [root];
        else if (root.NamespaceURI == SamlNamespaces.Metadata && root.LocalName == "EntitiesDescriptor")
            entities = root.GetElementsByTagName("EntityDescriptor", SamlNamespaces.Metadata).OfType<XmlElement>().ToList();
        else
            return SamlFailure.Structure($"The metadata root element is <{root.Name}>; a SAML 2.0 <md:EntityDescriptor> is expected.");

        var idps = entities
            .Select(e => (Entity: e, Idp: SecureXml.ChildElements(e, SamlNamespaces.Metadata, "IDPSSODescriptor")
                .FirstOrDefault(d => (SecureXml.Attribute(d, "protocolSupportEnumeration") ?? "")
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(SamlUris.Saml20Protocol))))
            .Where(e => e.Idp is not null)
            .ToList();
        return idps.Count switch
        {
            0 => new SamlFailure(SamlFailureKind.NoIdpSsoDescriptor,
                "The metadata has no IDPSSODescriptor for SAML 2.0; it may be SP metadata, or metadata of another protocol. " +
                "Download the IdP metadata (federation metadata) from the IdP's SAML app."),
            1 => (idps[0].Entity, idps[0].Idp!),
            _ => SamlFailure.Structure($"The metadata describes {idps.Count} identity providers; give the metadata of exactly one."),
        };
    }

    private static Result<IReadOnlyList<SamlEndpoint>, SamlFailure> Endpoints(XmlElement idp, string name)
    {
        var endpoints = new List<SamlEndpoint>();
        foreach (var element in SecureXml.ChildElements(idp, SamlNamespaces.Metadata, name))
        {
            var binding = SecureXml.Attribute(element, "Binding");
            var location = SecureXml.Attribute(element, "Location");
            if (string.IsNullOrWhiteSpace(binding) || string.IsNullOrWhiteSpace(location))
                return SamlFailure.Structure($"A {name} has no Binding or no Location.");
            // On Unix "/path" parses as an absolute file: URI, hence the scheme test. Whether
            // http is acceptable (loopback in Development only) is the connection's rule.
            if (!Uri.TryCreate(location.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
                return SamlFailure.Structure($"The {name} Location '{SamlFailure.Shown(location)}' is not an absolute https URL.");
            var responseLocation = SecureXml.Attribute(element, "ResponseLocation")?.Trim();
            if (responseLocation is { Length: > 0 }
                && (!Uri.TryCreate(responseLocation, UriKind.Absolute, out var responseUri) || responseUri.Scheme is not ("https" or "http")))
                return SamlFailure.Structure($"The {name} ResponseLocation '{SamlFailure.Shown(responseLocation)}' is not an absolute https URL.");
            endpoints.Add(new SamlEndpoint(binding.Trim(), location.Trim(), responseLocation is { Length: > 0 } ? responseLocation : null));
        }
        return endpoints;
    }
}
