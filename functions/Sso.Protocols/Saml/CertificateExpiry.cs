using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sso.Protocols.Saml;

/// <summary>One IdP signing certificate and how close it is to its end.</summary>
/// <param name="Thumbprint">SHA-256 of the DER certificate, upper-case hex (as IdP consoles show it).</param>
/// <param name="ExpiresSoon">NotAfter is within the warning window from now, or already past.</param>
public sealed record CertificateStatus(string Thumbprint, string Subject, DateTimeOffset NotAfter, bool ExpiresSoon, bool Expired);

/// <summary>
/// Which IdP signing certificates of a connection expire soon. When the IdP rolls its certificate
/// and nobody updates the connection, every sign-in fails on that day; a warning a month ahead
/// gives the customer's IT admin time to paste the new one (or lets a metadata URL refresh it).
/// </summary>
public static class CertificateExpiry
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(30);

    /// <summary>A certificate expires within the window (or has expired).</summary>
    public const string ExpiringWarning = "idp_certificate_expiring";

    /// <summary>A certificate has expired.</summary>
    public const string ExpiredWarning = "idp_certificate_expired";

    public static IReadOnlyList<CertificateStatus> Check(IEnumerable<X509Certificate2> certificates, DateTimeOffset now, TimeSpan window)
    {
        var statuses = new List<CertificateStatus>();
        foreach (var certificate in certificates)
        {
            var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
            if (statuses.Any(s => s.Thumbprint == thumbprint)) continue;
            statuses.Add(new CertificateStatus(thumbprint, certificate.Subject, notAfter,
                ExpiresSoon: notAfter - now <= window, Expired: notAfter <= now));
        }
        return statuses;
    }

    /// <summary>The connection-level warnings for <paramref name="statuses"/>, in a stable order.</summary>
    public static IReadOnlyList<string> Warnings(IReadOnlyList<CertificateStatus> statuses)
    {
        var warnings = new List<string>();
        if (statuses.Any(s => s.ExpiresSoon)) warnings.Add(ExpiringWarning);
        if (statuses.Any(s => s.Expired)) warnings.Add(ExpiredWarning);
        return warnings;
    }
}
