namespace Sso.Testing;

/// <summary>
/// Two instances of one deployment over the shared Azurite: B uses A's tables, queues, secret
/// folder and clock, so what one instance changes the other sees, through its own caches.
/// <code>
/// private TwoInstances _apps = null!;
/// public async Task InitializeAsync() => _apps = await TwoInstances.StartAsync();
/// public Task DisposeAsync() => _apps.DisposeAsync().AsTask();
/// </code>
/// </summary>
public sealed class TwoInstances : IAsyncDisposable
{
    private TwoInstances(SsoAppFactory a, SsoAppFactory b)
    {
        A = a;
        B = b;
    }

    public SsoAppFactory A { get; }
    public SsoAppFactory B { get; }

    /// <summary>Both apps, started (their servers built) before the test's first request.</summary>
    public static async Task<TwoInstances> StartAsync()
    {
        var azurite = await AzuriteServer.Shared;
        var a = new SsoAppFactory(azurite);
        var b = new SsoAppFactory(azurite, sharedWith: a);
        _ = a.Server;
        _ = b.Server;
        return new TwoInstances(a, b);
    }

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
    }
}
