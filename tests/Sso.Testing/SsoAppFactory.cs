using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Sso.Testing;

/// <summary>
/// The real app in-process over a real Azurite, with its own table prefix (fresh tables per
/// factory), its own secret folder, a known admin key and a fake clock. Queue work runs only
/// when a test calls the local dispatcher.
/// </summary>
public class SsoAppFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _ownsSecretFolder;

    /// <param name="sharedWith">
    /// Another app whose tables, queues, secret folder and clock this one uses: a second instance of
    /// the same deployment, for what one instance changes and another sees (caches, revocation).
    /// </param>
    public SsoAppFactory(AzuriteServer azurite, IDictionary<string, string?>? settings = null, SsoAppFactory? sharedWith = null)
    {
        Azurite = azurite;
        TablePrefix = sharedWith?.TablePrefix ?? "t" + Guid.NewGuid().ToString("N")[..12];
        SecretFolder = sharedWith?.SecretFolder ?? Path.Combine(Path.GetTempPath(), "sso-secrets-" + Guid.NewGuid().ToString("N"));
        Clock = sharedWith?.Clock ?? new FakeTimeProvider(DateTimeOffset.UtcNow);
        _ownsSecretFolder = sharedWith is null;
        _settings = new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = azurite.ConnectionString,
            ["Storage:TablePrefix"] = TablePrefix,
            ["Secrets:Backend"] = "local",
            ["Secrets:LocalPath"] = SecretFolder,
            ["Admin:ApiKeys"] = AdminKey,
            ["Queues:Backend"] = "storage",
            ["Queues:LocalDispatcher:Enabled"] = "false",
            ["Sso:PublicBaseUrl"] = "http://localhost",
            // The shared 2-core test machine runs several suites at once, and Azurite then stalls
            // for seconds (single tries over 10 s were seen): the production budgets (8 s per
            // request, 3 s per storage try) would turn healthy-but-slow requests into 503s, and a
            // timed-out insert retried into a 409. FrozenStorageTests runs with the real ones.
            ["Hosting:RequestTimeoutSeconds"] = "60",
            ["Storage:TryTimeoutSeconds"] = "30",
            // One message at a time unless a test asks for more: several tests assert the exact
            // order in which queued work was handled (e.g. which deprovisioning crossed the mass
            // deprovisioning bar). WebhookOutageTests runs with the default of 8.
            ["Queues:LocalDispatcher:Concurrency"] = "1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            _settings[key] = value;
    }

    public AzuriteServer Azurite { get; }
    public string TablePrefix { get; }
    public string SecretFolder { get; }
    public FakeTimeProvider Clock { get; }

    /// <summary>"Development" unless a test needs the Production rules (https only, no loopback IdPs).</summary>
    public string EnvironmentName { get; init; } = "Development";

    /// <summary>Services a test puts in place of the app's, after the app registered its own.</summary>
    public Action<IServiceCollection>? TestServices { get; init; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            TestServices?.Invoke(services);
        });
    }

    /// <summary>
    /// The app's address when it listens on a real socket (<c>UseKestrel</c>): the clients below then
    /// go there, through a plain handler that does not follow redirects, as they do in memory.
    /// </summary>
    public Uri? SocketBaseAddress { get; set; }

    /// <summary>A client that sends the admin key.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    public HttpClient CreateAnonymousClient() => SocketBaseAddress is { } socket
        ? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = socket }
        : CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>
    /// Waits until what the app handed to its background writers is stored: committed events in
    /// the feed and on the queue (<see cref="Sso.Functions.Outbox.OutboxPublisher"/>), audit rows
    /// (<see cref="Sso.Functions.Audit.AuditWriter"/>). Call it before reading the feed or the trail.
    /// </summary>
    public async Task FlushAsync()
    {
        await Get<Sso.Functions.Outbox.OutboxPublisher>().FlushAsync(default);
        await Get<Sso.Functions.Audit.AuditWriter>().FlushAsync(default);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!_ownsSecretFolder) return;
        try
        {
            Directory.Delete(SecretFolder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>One app per test class over the shared Azurite: <c>IClassFixture&lt;SsoAppFixture&gt;</c>.</summary>
public class SsoAppFixture : IAsyncLifetime
{
    private SsoAppFactory? _factory;

    public SsoAppFactory App => _factory ?? throw new InvalidOperationException("The fixture has not started.");

    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected virtual SsoAppFactory CreateFactory(AzuriteServer azurite) => new(azurite, Settings);

    public async Task InitializeAsync()
    {
        _factory = CreateFactory(await AzuriteServer.Shared);
        _ = _factory.Server;
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
    }
}
