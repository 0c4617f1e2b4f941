using System.Collections.Concurrent;

namespace Sso.Functions.Storage;

/// <summary>
/// A small in-instance cache for rows that change rarely (a connection, a tenant, a client, a
/// directory, a SCIM token's hash row). An entry lives at most <see cref="MaxAge"/> by the injected
/// clock, so another instance's change reaches this one within that time; the store that changes
/// a row on this instance calls <see cref="Invalidate"/>, so here it shows at once. Misses (null)
/// are not kept: a row created elsewhere is found on the next read. The size is bounded: past
/// <see cref="MaxEntries"/> the expired entries go, and if that is not enough, all of them.
/// </summary>
public sealed class InstanceCache<TKey, TValue>(TimeProvider clock, TimeSpan maxAge, int maxEntries = 10_000)
    where TKey : notnull
    where TValue : class
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, DateTimeOffset ExpiresAt)> _entries = new();

    // Bumped by every invalidation: a read that started before it does not store what it read,
    // since that may be the row as it was before the change.
    private long _generation;

    public TimeSpan MaxAge { get; } = maxAge;
    public int MaxEntries { get; } = maxEntries;

    public bool TryGet(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry) && clock.GetUtcNow() < entry.ExpiresAt)
        {
            value = entry.Value;
            return true;
        }
        value = null!;
        return false;
    }

    /// <summary>The cached value, or what <paramref name="load"/> reads (kept unless it is null).</summary>
    public async Task<TValue?> GetOrLoadAsync(TKey key, Func<CancellationToken, Task<TValue?>> load, CancellationToken cancellationToken)
    {
        if (TryGet(key, out var cached)) return cached;
        var generation = Interlocked.Read(ref _generation);
        var loaded = await load(cancellationToken);
        if (loaded is not null) Set(key, loaded, generation);
        return loaded;
    }

    private void Set(TKey key, TValue value, long generation)
    {
        if (_entries.Count >= MaxEntries) Trim();
        _entries[key] = (value, clock.GetUtcNow() + MaxAge);
        // An invalidation that ran while the row was read wins over what was read.
        if (Interlocked.Read(ref _generation) != generation) _entries.TryRemove(key, out _);
    }

    public void Invalidate(TKey key)
    {
        Interlocked.Increment(ref _generation);
        _entries.TryRemove(key, out _);
    }

    public void InvalidateWhere(Func<TKey, bool> predicate)
    {
        Interlocked.Increment(ref _generation);
        foreach (var key in _entries.Keys)
            if (predicate(key)) _entries.TryRemove(key, out _);
    }

    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    private void Trim()
    {
        var now = clock.GetUtcNow();
        foreach (var (key, entry) in _entries)
            if (now >= entry.ExpiresAt) _entries.TryRemove(key, out _);
        if (_entries.Count >= MaxEntries) _entries.Clear();
    }
}
