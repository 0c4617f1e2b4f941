using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class SigningKeyStrengthTests
{
    private static X509Certificate2 Rsa(int bits)
    {
        using var rsa = RSA.Create(bits);
        return new CertificateRequest($"CN=RSA-{bits}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(SamlTestIdp.Now.AddYears(-1), SamlTestIdp.Now.AddYears(2));
    }

    [Theory]
    [InlineData(1024, false)]
    [InlineData(1536, false)]
    [InlineData(2048, true)]
    [InlineData(3072, true)]
    public void Trusts_RSA_keys_from_2048_bits(int bits, bool trusted)
    {
        using var certificate = Rsa(bits);
        Assert.Equal(trusted, SigningKeyStrength.WhyTooWeak(certificate) is null);
    }

    [Fact]
    public void Trusts_an_ECDSA_P256_key()
    {
        Assert.Null(SigningKeyStrength.WhyTooWeak(SamlTestIdp.EcdsaSigningCertificate));
    }

    [Fact]
    public void Refuses_an_assertion_signed_by_a_1024_bit_key_even_when_the_connection_holds_its_certificate()
    {
        // A connection saved before the rule may still hold such a certificate.
        using var weak = Rsa(1024);
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response(), weak);

        var result = SamlResponseValidator.Validate(SamlTestIdp.ToBase64(document), SamlTestIdp.Parameters(weak));

        Assert.False(result.IsSuccess);
        Assert.Equal(SamlFailureKind.SignatureInvalid, result.Error.Kind);
    }
}
