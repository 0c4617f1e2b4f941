using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class CertificateExpiryTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static X509Certificate2 CertificateEnding(DateTimeOffset notAfter)
    {
        using var rsa = RSA.Create(2048);
        return new CertificateRequest("CN=IdP", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(notAfter.AddYears(-1), notAfter);
    }

    [Theory]
    [InlineData(40, false, false)]
    [InlineData(31, false, false)]
    [InlineData(30, true, false)]
    [InlineData(20, true, false)]
    [InlineData(-1, true, true)]
    public void Flags_a_certificate_by_the_days_it_has_left(int daysLeft, bool expiresSoon, bool expired)
    {
        using var certificate = CertificateEnding(Now.AddDays(daysLeft));

        var status = Assert.Single(CertificateExpiry.Check([certificate], Now, CertificateExpiry.DefaultWindow));

        Assert.Equal(expiresSoon, status.ExpiresSoon);
        Assert.Equal(expired, status.Expired);
        Assert.Equal(certificate.GetCertHashString(HashAlgorithmName.SHA256), status.Thumbprint);
        Assert.Equal(Now.AddDays(daysLeft), status.NotAfter);
    }

    [Fact]
    public void Warns_about_expiring_and_expired_certificates_of_a_connection()
    {
        using var good = CertificateEnding(Now.AddDays(400));
        using var soon = CertificateEnding(Now.AddDays(10));
        using var gone = CertificateEnding(Now.AddDays(-3));

        Assert.Empty(CertificateExpiry.Warnings(CertificateExpiry.Check([good], Now, CertificateExpiry.DefaultWindow)));
        Assert.Equal([CertificateExpiry.ExpiringWarning],
            CertificateExpiry.Warnings(CertificateExpiry.Check([good, soon], Now, CertificateExpiry.DefaultWindow)));
        Assert.Equal([CertificateExpiry.ExpiringWarning, CertificateExpiry.ExpiredWarning],
            CertificateExpiry.Warnings(CertificateExpiry.Check([gone, good], Now, CertificateExpiry.DefaultWindow)));
    }

    [Fact]
    public void Lists_a_certificate_given_twice_once()
    {
        using var certificate = CertificateEnding(Now.AddDays(5));
        using var copy = X509CertificateLoader.LoadCertificate(certificate.RawData);

        Assert.Single(CertificateExpiry.Check([certificate, copy], Now, CertificateExpiry.DefaultWindow));
    }
}
