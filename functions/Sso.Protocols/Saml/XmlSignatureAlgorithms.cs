using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Sso.Protocols.Saml;

/// <summary>
/// System.Security.Cryptography.Xml knows RSA signature methods by name but not ECDSA ones
/// (xmldsig-more §2.3.6), and in a trimmed binary it finds no digest type by name. These
/// registrations teach it, once per process. XML DSig ECDSA signatures are r || s, which is
/// what <see cref="ECDsa.VerifyHash(byte[], byte[])"/> expects.
/// </summary>
internal static class XmlSignatureAlgorithms
{
    private static readonly Lazy<bool> Registered = new(Register);

    public static void EnsureRegistered() => _ = Registered.Value;

    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(EcdsaSha256SignatureDescription))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(EcdsaSha384SignatureDescription))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(EcdsaSha512SignatureDescription))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(XmlDsigSha1))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(XmlDsigSha256))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(XmlDsigSha384))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(XmlDsigSha512))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(RSAPKCS1SignatureFormatter))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(RSAPKCS1SignatureDeformatter))]
    private static bool Register()
    {
        // CryptoConfig creates these by reflection over their constructors; DynamicDependency
        // keeps the constructors reflectable in a Native AOT binary (verified by an AOT publish).
        CryptoConfig.AddAlgorithm(typeof(XmlDsigSha1), SamlAlgorithms.Sha1);
        CryptoConfig.AddAlgorithm(typeof(XmlDsigSha256), SamlAlgorithms.Sha256);
        CryptoConfig.AddAlgorithm(typeof(XmlDsigSha384), SamlAlgorithms.Sha384);
        CryptoConfig.AddAlgorithm(typeof(XmlDsigSha512), SamlAlgorithms.Sha512);
        // The RSA signature descriptions built into SignedXml create these by type name.
        CryptoConfig.AddAlgorithm(typeof(RSAPKCS1SignatureFormatter), typeof(RSAPKCS1SignatureFormatter).FullName!);
        CryptoConfig.AddAlgorithm(typeof(RSAPKCS1SignatureDeformatter), typeof(RSAPKCS1SignatureDeformatter).FullName!);
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

/// <summary>
/// Digests for SignedXml's lookup by URI. In a trimmed (Native AOT) binary CryptoConfig finds
/// no hash type for these names ("Could not create hash algorithm object"); registering these
/// makes the lookup independent of what the trimmer kept. Public only because CryptoConfig
/// accepts public types alone.
/// </summary>
public abstract class XmlDsigDigest : HashAlgorithm
{
    private readonly IncrementalHash _hash;

    private protected XmlDsigDigest(HashAlgorithmName name, int bits)
    {
        _hash = IncrementalHash.CreateHash(name);
        HashSizeValue = bits;
    }

    public override void Initialize() { }

    protected override void HashCore(byte[] array, int ibStart, int cbSize) => _hash.AppendData(array, ibStart, cbSize);

    protected override byte[] HashFinal() => _hash.GetHashAndReset();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}

public sealed class XmlDsigSha1 : XmlDsigDigest
{
    public XmlDsigSha1() : base(HashAlgorithmName.SHA1, 160) { }
}

public sealed class XmlDsigSha256 : XmlDsigDigest
{
    public XmlDsigSha256() : base(HashAlgorithmName.SHA256, 256) { }
}

public sealed class XmlDsigSha384 : XmlDsigDigest
{
    public XmlDsigSha384() : base(HashAlgorithmName.SHA384, 384) { }
}

public sealed class XmlDsigSha512 : XmlDsigDigest
{
    public XmlDsigSha512() : base(HashAlgorithmName.SHA512, 512) { }
}
