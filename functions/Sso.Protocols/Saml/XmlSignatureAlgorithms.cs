using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Sso.Protocols.Saml;

/// <summary>
/// System.Security.Cryptography.Xml knows RSA signature methods by name but not ECDSA ones
/// (xmldsig-more §2.3.6). These descriptions teach it, once per process; XML DSig ECDSA
/// signatures are r || s, which is what <see cref="ECDsa.VerifyHash(byte[], byte[])"/> expects.
/// </summary>
internal static class XmlSignatureAlgorithms
{
    private static readonly Lazy<bool> Registered = new(Register);

    public static void EnsureRegistered() => _ = Registered.Value;

    private static bool Register()
    {
        CryptoConfig.AddAlgorithm(typeof(EcdsaSha256SignatureDescription), SamlAlgorithms.EcdsaSha256);
        CryptoConfig.AddAlgorithm(typeof(EcdsaSha384SignatureDescription), SamlAlgorithms.EcdsaSha384);
        CryptoConfig.AddAlgorithm(typeof(EcdsaSha512SignatureDescription), SamlAlgorithms.EcdsaSha512);
        return true;
    }

    public static bool IsEcdsa(string signatureMethod) =>
        signatureMethod is SamlAlgorithms.EcdsaSha256 or SamlAlgorithms.EcdsaSha384 or SamlAlgorithms.EcdsaSha512;

    public static bool IsRsa(string signatureMethod) =>
        signatureMethod is SamlAlgorithms.RsaSha1 or SamlAlgorithms.RsaSha256 or SamlAlgorithms.RsaSha384 or SamlAlgorithms.RsaSha512;
}

/// <summary>ECDSA for SignedXml; public only because CryptoConfig accepts public types alone.</summary>
public abstract class EcdsaSignatureDescription : SignatureDescription
{
    private protected EcdsaSignatureDescription()
    {
        KeyAlgorithm = typeof(ECDsa).AssemblyQualifiedName;
    }

    private protected abstract HashAlgorithmName Hash { get; }

    [RequiresUnreferencedCode("Matches the base member; creates no type by name.")]
    public override HashAlgorithm CreateDigest() => Hash.Name switch
    {
        "SHA256" => SHA256.Create(),
        "SHA384" => SHA384.Create(),
        _ => SHA512.Create(),
    };

    [RequiresUnreferencedCode("Matches the base member; creates no type by name.")]
    public override AsymmetricSignatureDeformatter CreateDeformatter(AsymmetricAlgorithm key) =>
        new EcdsaDeformatter((ECDsa)key);

    [RequiresUnreferencedCode("Matches the base member; creates no type by name.")]
    public override AsymmetricSignatureFormatter CreateFormatter(AsymmetricAlgorithm key) =>
        new EcdsaFormatter((ECDsa)key);

    private sealed class EcdsaDeformatter(ECDsa key) : AsymmetricSignatureDeformatter
    {
        public override void SetKey(AsymmetricAlgorithm key) => throw new NotSupportedException();
        public override void SetHashAlgorithm(string strName) { }
        public override bool VerifySignature(byte[] rgbHash, byte[] rgbSignature) => key.VerifyHash(rgbHash, rgbSignature);
    }

    private sealed class EcdsaFormatter(ECDsa key) : AsymmetricSignatureFormatter
    {
        public override void SetKey(AsymmetricAlgorithm key) => throw new NotSupportedException();
        public override void SetHashAlgorithm(string strName) { }
        public override byte[] CreateSignature(byte[] rgbHash) => key.SignHash(rgbHash);
    }
}

public sealed class EcdsaSha256SignatureDescription : EcdsaSignatureDescription
{
    public EcdsaSha256SignatureDescription() { }
    private protected override HashAlgorithmName Hash => HashAlgorithmName.SHA256;
}

public sealed class EcdsaSha384SignatureDescription : EcdsaSignatureDescription
{
    public EcdsaSha384SignatureDescription() { }
    private protected override HashAlgorithmName Hash => HashAlgorithmName.SHA384;
}

public sealed class EcdsaSha512SignatureDescription : EcdsaSignatureDescription
{
    public EcdsaSha512SignatureDescription() { }
    private protected override HashAlgorithmName Hash => HashAlgorithmName.SHA512;
}
