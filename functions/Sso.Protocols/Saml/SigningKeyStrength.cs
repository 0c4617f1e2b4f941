using System.Security.Cryptography.X509Certificates;

namespace Sso.Protocols.Saml;

/// <summary>
/// The smallest IdP signing keys trusted: RSA of 2048 bits and ECDSA on P-256 (NIST SP 800-131A
/// and SP 800-57 put both at 112 bits of security; RSA-1024 has been breakable for years).
/// </summary>
public static class SigningKeyStrength
{
    public const int MinRsaBits = 2048;
    public const int MinEcBits = 256;

    /// <summary>Why the certificate's key is too weak to trust, or null when it is strong enough.</summary>
    public static string? WhyTooWeak(X509Certificate2 certificate)
    {
        using (var rsa = certificate.GetRSAPublicKey())
            if (rsa is not null)
                return rsa.KeySize >= MinRsaBits ? null : $"its RSA key has {rsa.KeySize} bits; at least {MinRsaBits} are required";
        using (var ec = certificate.GetECDsaPublicKey())
            if (ec is not null)
                return ec.KeySize >= MinEcBits ? null : $"its EC key has {ec.KeySize} bits; at least P-256 is required";
        return "it holds neither an RSA nor an ECDSA key";
    }
}
