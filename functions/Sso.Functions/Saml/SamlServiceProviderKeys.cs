using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Secrets;

namespace Sso.Functions.Saml;

/// <summary>
/// Each SAML connection's SP key ring, kept in the secret store under <c>saml-sp-con-…</c>: key
/// pairs (PKCS#12) that sign AuthnRequests and decrypt assertions; only certificates are ever
/// published. The first key is current (signs); during a rollover every key is published in the
/// SP metadata and any of them decrypts, so an IdP still encrypting to the previous certificate
/// keeps working until that key is retired. A secret written before rings existed (one PKCS#12)
/// reads as a ring of one key and is rewritten as a ring on the next rotation.
/// </summary>
public sealed class SamlServiceProviderKeys(ISecretStore secrets, TimeProvider clock)
{
    /// <summary>Every instance rereads a ring after this, so a rotation elsewhere reaches it.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);

    /// <summary>Five PKCS#12 RSA-2048 keys are about 18 KB of JSON, under Key Vault's 25 KB secret limit.</summary>
    public const int MaxKeys = 5;
    public static readonly TimeSpan CertificateLifetime = TimeSpan.FromDays(10 * 365);

    private readonly ConcurrentDictionary<ConnectionId, (IReadOnlyList<SpKey> Keys, DateTimeOffset LoadedAt)> _cache = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    public static string SecretName(ConnectionId id) => "saml-sp-" + id.Value.Replace('_', '-');

    /// <summary>The current key's certificate (with its private key): it signs AuthnRequests.</summary>
    public async Task<X509Certificate2> GetOrCreateAsync(ConnectionId id, CancellationToken cancellationToken) =>
        (await GetKeysAsync(id, cancellationToken))[0].Certificate;

    /// <summary>Every certificate of the ring, current first: all are published and all decrypt.</summary>
    public async Task<IReadOnlyList<X509Certificate2>> GetCertificatesAsync(ConnectionId id, CancellationToken cancellationToken) =>
        (await GetKeysAsync(id, cancellationToken)).Select(k => k.Certificate).ToList();

    /// <summary>The ring, current key first; created with one key on first use.</summary>
    public async Task<IReadOnlyList<SpKey>> GetKeysAsync(ConnectionId id, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(id, out var cached) && clock.GetUtcNow() - cached.LoadedAt < CacheFor) return cached.Keys;
        var keys = await LoadAsync(id, cancellationToken);
        if (keys.Count == 0)
        {
            await SaveAsync(id, [Create(id)], cancellationToken);
            // Two instances may create at once; read back so both use whichever ring the store kept.
            keys = await LoadAsync(id, cancellationToken);
        }
        _cache[id] = (keys, clock.GetUtcNow());
        return keys;
    }

    /// <summary>The ring as stored right now, not this instance's cache.</summary>
    public async Task<IReadOnlyList<SpKey>> ListAsync(ConnectionId id, CancellationToken cancellationToken)
    {
        _cache.TryRemove(id, out _);
        return await GetKeysAsync(id, cancellationToken);
    }

    /// <summary>A new current key in front of the ring; null when the ring is full.</summary>
    public async Task<SpKey?> TryRotateAsync(ConnectionId id, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var keys = await LoadAsync(id, cancellationToken);
            if (keys.Count >= MaxKeys) return null;
            var fresh = Create(id);
            await SaveAsync(id, [fresh, .. keys], cancellationToken);
            _cache.TryRemove(id, out _);
            return fresh;
        }
        finally
        {
            _gate.Release();
        }
    }

    public enum RetireOutcome { Retired, NotFound, Current }

    /// <summary>Removes a previous key: assertions encrypted to its certificate no longer decrypt.</summary>
    public async Task<RetireOutcome> RetireAsync(ConnectionId id, string keyId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var keys = await LoadAsync(id, cancellationToken);
            var index = keys.ToList().FindIndex(k => k.Id == keyId);
            if (index < 0) return RetireOutcome.NotFound;
            if (index == 0) return RetireOutcome.Current;
            await SaveAsync(id, keys.Where((_, i) => i != index).ToList(), cancellationToken);
            _cache.TryRemove(id, out _);
            return RetireOutcome.Retired;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task DeleteAsync(ConnectionId id, CancellationToken cancellationToken)
    {
        _cache.TryRemove(id, out _);
        await secrets.DeleteAsync(SecretName(id), cancellationToken);
    }

    private async Task<IReadOnlyList<SpKey>> LoadAsync(ConnectionId id, CancellationToken cancellationToken)
    {
        var stored = await secrets.GetAsync(SecretName(id), cancellationToken);
        if (string.IsNullOrWhiteSpace(stored)) return [];
        if (!stored.TrimStart().StartsWith('{'))
        {
            // The single-key format: base64 PKCS#12, created the day after its NotBefore.
            var legacy = Load(stored);
            return [new SpKey(SpKey.IdOf(legacy), legacy, new DateTimeOffset(legacy.NotBefore.ToUniversalTime()).AddDays(1))];
        }
        var ring = JsonSerializer.Deserialize(stored, SsoJsonContext.Default.SpKeyRing);
        return ring?.Keys.Select(k => new SpKey(k.Id, Load(k.Pkcs12), k.CreatedAt)).ToList() ?? [];
    }

    private Task SaveAsync(ConnectionId id, IReadOnlyList<SpKey> keys, CancellationToken cancellationToken) =>
        secrets.SetAsync(SecretName(id), JsonSerializer.Serialize(
            new SpKeyRing(keys.Select(k => new StoredSpKey(k.Id, Convert.ToBase64String(k.Certificate.Export(X509ContentType.Pkcs12)), k.CreatedAt))
                .ToArray()), SsoJsonContext.Default.SpKeyRing), cancellationToken);

    private static X509Certificate2 Load(string pkcs12Base64) =>
        X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(pkcs12Base64), null,
            X509KeyStorageFlags.Exportable | X509KeyStorageFlags.EphemeralKeySet);

    private SpKey Create(ConnectionId id)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN=Serverless.Sso SP {id.Value}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: false));
        var now = clock.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddDays(-1), now + CertificateLifetime);
        // Reload from PKCS#12 so the key is exportable and ephemeral, like every key read from the store.
        var certificate = Load(Convert.ToBase64String(created.Export(X509ContentType.Pkcs12)));
        return new SpKey(SpKey.IdOf(certificate), certificate, now);
    }
}

/// <summary>One SP key pair of a connection; <see cref="Id"/> is derived from the certificate.</summary>
public sealed record SpKey(string Id, X509Certificate2 Certificate, DateTimeOffset CreatedAt)
{
    public DateTimeOffset NotAfter => new DateTimeOffset(Certificate.NotAfter.ToUniversalTime());

    public static string IdOf(X509Certificate2 certificate) =>
        "spk_" + Convert.ToHexStringLower(SHA256.HashData(certificate.RawData))[..20];
}

public sealed record SpKeyRing(StoredSpKey[] Keys);

public sealed record StoredSpKey(string Id, string Pkcs12, DateTimeOffset CreatedAt);
