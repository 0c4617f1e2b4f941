using System.Collections.Concurrent;
using Microsoft.IdentityModel.Tokens;
using Sso.Functions.Hosting;
using Sso.Protocols.Oidc;

namespace Sso.Functions.Oidc;

/// <summary>
/// Each IdP's discovery document and JWKS, per process. Discovery is refreshed a day after it was
/// fetched, the JWKS an hour after. An id_token naming a key the cached JWKS lacks (the IdP
/// rotated) refetches the JWKS at once unless one was fetched in the last
/// <see cref="UnknownKeyRefetchInterval"/>. Inside that interval an unknown kid still refetches when
/// no kid made this process refetch in the last minute (the last fetch was a routine one), or
/// when the last kid-driven refetch did not find its kid (a refused sign-in, perhaps a forged
/// kid, must not use up the refetch the IdP's real new key needs) — at most
/// <see cref="NewKidRefetchesPerMinute"/> kid-driven refetches a minute, so a stream of forged
/// kids cannot turn this service into a load generator against the IdP.
/// </summary>
public sealed partial class OidcProviderCache(IdpHttpClient http, TimeProvider clock, SsoOptions options, ILogger<OidcProviderCache> logger)
{
    public static readonly TimeSpan DiscoveryLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan JwksLifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan UnknownKeyRefetchInterval = TimeSpan.FromSeconds(5);
    public const int NewKidRefetchesPerMinute = 3;

    /// <summary>A stale copy is still used this long when a refresh fails: an IdP blip should not stop sign-ins.</summary>
    public static readonly TimeSpan StaleGrace = TimeSpan.FromDays(3);

    private sealed record Cached<T>(T Value, DateTimeOffset FetchedAt, DateTimeOffset AttemptedAt);

    /// <summary>The kids that made this process refetch an IdP's JWKS in the last minute, and when.</summary>
    private sealed class KidRefetches
    {
        public readonly List<(string Kid, DateTimeOffset At)> Recent = [];
        public bool LastFoundItsKid;
    }

    private readonly ConcurrentDictionary<string, KidRefetches> _kidRefetches = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, Cached<OidcProviderMetadata>> _metadata = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Cached<IReadOnlyList<JsonWebKey>>> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Fetches and validates discovery now, bypassing the cache (connection setup), and caches it.</summary>
    public async Task<Result<OidcProviderMetadata, OidcFailure>> FetchMetadataAsync(string issuer, CancellationToken cancellationToken)
    {
        var url = new Uri(OidcDiscoveryReader.DiscoveryUrl(issuer));
        var response = await http.GetAsync(url, OidcDiscoveryReader.MaxDocumentBytes, null, cancellationToken);
        if (!response.IsSuccess) return response.Error;
        if (response.Value.Status != 200)
            return new OidcFailure(OidcFailureKind.IdpHttpError,
                $"The IdP answered {response.Value.Status} for {url}; is the issuer right?", "200", response.Value.Status.ToString());
        var metadata = OidcDiscoveryReader.Read(response.Value.Body, issuer, options.AllowLoopbackHttp);
        if (metadata.IsSuccess) _metadata[issuer] = new(metadata.Value, clock.GetUtcNow(), clock.GetUtcNow());
        return metadata;
    }

    public async Task<Result<OidcProviderMetadata, OidcFailure>> GetMetadataAsync(string issuer, CancellationToken cancellationToken)
    {
        if (_metadata.TryGetValue(issuer, out var cached) && Age(cached.FetchedAt) < DiscoveryLifetime) return cached.Value;
        var gate = _gates.GetOrAdd("d|" + issuer, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_metadata.TryGetValue(issuer, out cached) && Age(cached.FetchedAt) < DiscoveryLifetime) return cached.Value;
            var fresh = await FetchMetadataAsync(issuer, cancellationToken);
            if (fresh.IsSuccess) return fresh;
            if (cached is not null && Age(cached.FetchedAt) < StaleGrace)
            {
                LogStale(logger, "discovery", fresh.Error.Kind);
                return cached.Value;
            }
            return fresh;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <param name="unknownKid">The kid of a token the cached JWKS lacks (null: none): refetch, rate-limited.</param>
    public async Task<Result<IReadOnlyList<JsonWebKey>, OidcFailure>> GetKeysAsync(
        OidcProviderMetadata metadata, string? unknownKid, CancellationToken cancellationToken)
    {
        var key = metadata.JwksUri.AbsoluteUri;
        if (_keys.TryGetValue(key, out var cached) && !NeedsRefresh(key, cached, unknownKid))
            return Result<IReadOnlyList<JsonWebKey>, OidcFailure>.Success(cached.Value);
        var gate = _gates.GetOrAdd("k|" + key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Another request may have refreshed while this one waited.
            if (_keys.TryGetValue(key, out cached) && !NeedsRefresh(key, cached, unknownKid))
                return Result<IReadOnlyList<JsonWebKey>, OidcFailure>.Success(cached.Value);
            var now = clock.GetUtcNow();
            if (unknownKid is not null && cached is not null) RecordKidRefetch(key, unknownKid, now);
            var response = await http.GetAsync(metadata.JwksUri, OidcJwksReader.MaxDocumentBytes, null, cancellationToken);
            var keys = !response.IsSuccess
                ? response.Error
                : response.Value.Status != 200
                    ? new OidcFailure(OidcFailureKind.IdpHttpError, $"The IdP answered {response.Value.Status} for its JWKS.")
                    : OidcJwksReader.Read(response.Value.Body);
            if (keys.IsSuccess)
            {
                if (unknownKid is not null && _kidRefetches.TryGetValue(key, out var refetches))
                    lock (refetches) refetches.LastFoundItsKid = keys.Value.Any(k => string.Equals(k.Kid, unknownKid, StringComparison.Ordinal));
                _keys[key] = new(keys.Value, now, now);
                return keys;
            }
            if (cached is not null && now - cached.FetchedAt < StaleGrace)
            {
                LogStale(logger, "JWKS", keys.Error.Kind);
                _keys[key] = cached with { AttemptedAt = now };
                return Result<IReadOnlyList<JsonWebKey>, OidcFailure>.Success(cached.Value);
            }
            return keys;
        }
        finally
        {
            gate.Release();
        }
    }

    private bool NeedsRefresh(string jwksUri, Cached<IReadOnlyList<JsonWebKey>> cached, string? unknownKid)
    {
        if (unknownKid is null) return Age(cached.AttemptedAt) >= UnknownKeyRefetchInterval && Age(cached.FetchedAt) >= JwksLifetime;
        if (cached.Value.Any(k => string.Equals(k.Kid, unknownKid, StringComparison.Ordinal))) return false;
        if (Age(cached.AttemptedAt) >= UnknownKeyRefetchInterval) return true;
        if (!_kidRefetches.TryGetValue(jwksUri, out var refetches)) return true;
        lock (refetches)
        {
            refetches.Recent.RemoveAll(r => Age(r.At) >= TimeSpan.FromMinutes(1));
            if (refetches.Recent.Count == 0) return true;
            return !refetches.LastFoundItsKid && refetches.Recent.Count < NewKidRefetchesPerMinute
                   && !refetches.Recent.Any(r => r.Kid == unknownKid);
        }
    }

    private void RecordKidRefetch(string jwksUri, string kid, DateTimeOffset now)
    {
        var refetches = _kidRefetches.GetOrAdd(jwksUri, _ => new KidRefetches());
        lock (refetches)
        {
            refetches.Recent.RemoveAll(r => now - r.At >= TimeSpan.FromMinutes(1));
            refetches.Recent.Add((kid.Length > 200 ? kid[..200] : kid, now));
        }
    }

    private TimeSpan Age(DateTimeOffset fetchedAt) => clock.GetUtcNow() - fetchedAt;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the IdP's {Document} failed ({FailureKind}); using the cached copy")]
    private static partial void LogStale(ILogger logger, string document, OidcFailureKind failureKind);
}
