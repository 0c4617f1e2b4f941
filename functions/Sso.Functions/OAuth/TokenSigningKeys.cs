using System.Security.Cryptography;
using System.Text.Json;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Secrets;

namespace Sso.Functions.OAuth;

/// <summary>
/// The RSA keys that sign id_tokens and access tokens. They live in the secret store as one
/// key ring; the first key signs, every key in the ring is published in the JWKS so tokens
/// signed before a rotation keep validating. Each instance rereads the ring after
/// <see cref="CacheFor"/>, so a rotation or retirement made through another instance reaches
/// every instance's signing and JWKS within that time.
/// </summary>
public sealed class TokenSigningKeys(ISecretStore secrets, TimeProvider clock)
{
    public const string SecretName = "oauth-signing-keys";
    public static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);

    /// <summary>The current key and at most this many previous ones; a JWKS is not a key archive.</summary>
    public const int MaxKeys = 5;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (SigningKeyRing Ring, IReadOnlyList<SigningKey> Keys, DateTimeOffset LoadedAt)? _cached;

    /// <summary>The ring's keys, newest (the signing key) first; created on first use.</summary>
    public async Task<IReadOnlyList<SigningKey>> GetAsync(CancellationToken cancellationToken)
    {
        if (_cached is { } cached && clock.GetUtcNow() - cached.LoadedAt < CacheFor) return cached.Keys;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } again && clock.GetUtcNow() - again.LoadedAt < CacheFor) return again.Keys;
            var ring = await LoadAsync(cancellationToken) ?? await CreateAsync(cancellationToken);
            var keys = ring.Keys.Select(SigningKey.From).ToList();
            _cached = (ring, keys, clock.GetUtcNow());
            return keys;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<SigningKey> GetCurrentAsync(CancellationToken cancellationToken) =>
        (await GetAsync(cancellationToken))[0];

    /// <summary>Adds a new signing key in front; the previous key stays published until retired.</summary>
    public async Task<SigningKey> RotateAsync(int keepPrevious, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var ring = await LoadAsync(cancellationToken) ?? new SigningKeyRing([]);
            var fresh = StoredSigningKey.Generate(clock.GetUtcNow());
            var next = new SigningKeyRing([fresh, .. ring.Keys.Take(Math.Max(0, keepPrevious))]);
            await SaveAsync(next, cancellationToken);
            _cached = null;
            return SigningKey.From(fresh);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The ring as stored right now (not this instance's cache), current key first.</summary>
    public async Task<IReadOnlyList<StoredSigningKey>> ListAsync(CancellationToken cancellationToken) =>
        (await LoadAsync(cancellationToken))?.Keys ?? [];

    /// <summary>Rotates unless the ring is full; every previous key stays published.</summary>
    public async Task<StoredSigningKey?> TryRotateAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var ring = await LoadAsync(cancellationToken) ?? new SigningKeyRing([]);
            if (ring.Keys.Length >= MaxKeys) return null;
            var fresh = StoredSigningKey.Generate(clock.GetUtcNow());
            await SaveAsync(new SigningKeyRing([fresh, .. ring.Keys]), cancellationToken);
            _cached = null;
            return fresh;
        }
        finally
        {
            _gate.Release();
        }
    }

    public enum RetireOutcome { Retired, NotFound, Current }

    /// <summary>Removes a previous key from the ring: tokens it signed stop validating.</summary>
    public async Task<RetireOutcome> RetireAsync(string kid, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var ring = await LoadAsync(cancellationToken);
            var index = ring is null ? -1 : Array.FindIndex(ring.Keys, k => k.Kid == kid);
            if (index < 0) return RetireOutcome.NotFound;
            if (index == 0) return RetireOutcome.Current;
            await SaveAsync(new SigningKeyRing([.. ring!.Keys.Where((_, i) => i != index)]), cancellationToken);
            _cached = null;
            return RetireOutcome.Retired;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SigningKeyRing?> LoadAsync(CancellationToken cancellationToken)
    {
        var text = await secrets.GetAsync(SecretName, cancellationToken);
        if (text is null) return null;
        var ring = JsonSerializer.Deserialize(text, SsoJsonContext.Default.SigningKeyRing);
        return ring is { Keys.Length: > 0 } ? ring : null;
    }

    private async Task<SigningKeyRing> CreateAsync(CancellationToken cancellationToken)
    {
        var ring = new SigningKeyRing([StoredSigningKey.Generate(clock.GetUtcNow())]);
        await SaveAsync(ring, cancellationToken);
        // Two instances starting together may both create a ring; read back so this instance
        // signs with whichever ring the store kept.
        return await LoadAsync(cancellationToken) ?? ring;
    }

    private Task SaveAsync(SigningKeyRing ring, CancellationToken cancellationToken) =>
        secrets.SetAsync(SecretName, JsonSerializer.Serialize(ring, SsoJsonContext.Default.SigningKeyRing), cancellationToken);
}

public sealed record SigningKeyRing(StoredSigningKey[] Keys);

public sealed record StoredSigningKey(string Kid, string Pkcs8, DateTimeOffset CreatedAt)
{
    public static StoredSigningKey Generate(DateTimeOffset now)
    {
        using var rsa = RSA.Create(2048);
        var pkcs8 = rsa.ExportPkcs8PrivateKey();
        var kid = Base64Url.Encode(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()).AsSpan(0, 12));
        return new StoredSigningKey(kid, Convert.ToBase64String(pkcs8), now);
    }
}

/// <summary>A usable signing key: its id (the JWT <c>kid</c>) and the RSA key.</summary>
public sealed class SigningKey
{
    private SigningKey(string kid, RSA rsa, DateTimeOffset createdAt)
    {
        Kid = kid;
        Rsa = rsa;
        CreatedAt = createdAt;
    }

    public string Kid { get; }
    public RSA Rsa { get; }
    public DateTimeOffset CreatedAt { get; }

    public static SigningKey From(StoredSigningKey stored)
    {
        var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(Convert.FromBase64String(stored.Pkcs8), out _);
        return new SigningKey(stored.Kid, rsa, stored.CreatedAt);
    }
}

/// <summary>Creates the signing key on first start, so the JWKS is ready before the first sign-in.</summary>
public sealed partial class TokenSigningKeyInitializer(TokenSigningKeys keys, ILogger<TokenSigningKeyInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var key = await keys.GetCurrentAsync(cancellationToken);
            LogReady(logger, key.Kid);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The secret store may be briefly unreachable; the first token request retries.
            LogNotReady(logger, e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Token signing key {Kid} is ready")]
    private static partial void LogReady(ILogger logger, string kid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The token signing key could not be loaded yet")]
    private static partial void LogNotReady(ILogger logger, Exception exception);
}
