using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Collections.Concurrent;
using Sso.Functions.Connections;
using Sso.Functions.Storage.Secrets;

namespace Sso.Functions.Saml;

/// <summary>
/// Each SAML connection's SP key pair (signs AuthnRequests, decrypts assertions), kept in the
/// secret store as PKCS#12 under <c>saml-sp-con-…</c>; only the certificate is ever published.
/// </summary>
public sealed class SamlServiceProviderKeys(ISecretStore secrets, TimeProvider clock)
{
    private readonly ConcurrentDictionary<ConnectionId, X509Certificate2> _cache = new();

    public static string SecretName(ConnectionId id) => "saml-sp-" + id.Value.Replace('_', '-');

    public async Task<X509Certificate2> GetOrCreateAsync(ConnectionId id, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(id, out var cached)) return cached;
        var stored = await secrets.GetAsync(SecretName(id), cancellationToken);
        if (stored is null)
        {
            var created = Create(id);
            await secrets.SetAsync(SecretName(id), Convert.ToBase64String(created.Export(X509ContentType.Pkcs12)), cancellationToken);
            stored = await secrets.GetAsync(SecretName(id), cancellationToken)
                     ?? Convert.ToBase64String(created.Export(X509ContentType.Pkcs12));
        }
        var certificate = X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(stored), null,
            X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet);
        return _cache.GetOrAdd(id, certificate);
    }

    public async Task DeleteAsync(ConnectionId id, CancellationToken cancellationToken)
    {
        _cache.TryRemove(id, out _);
        await secrets.DeleteAsync(SecretName(id), cancellationToken);
    }

    private X509Certificate2 Create(ConnectionId id)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN=Serverless.Sso SP {id.Value}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: false));
        var now = clock.GetUtcNow();
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
    }
}
