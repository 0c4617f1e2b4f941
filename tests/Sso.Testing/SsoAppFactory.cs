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

    public SsoAppFactory(AzuriteServer azurite, IDictionary<string, string?>? settings = null)
    {
        Azurite = azurite;
        TablePrefix = "t" + Guid.NewGuid().ToString("N")[..12];
        SecretFolder = Path.Combine(Path.GetTempPath(), "sso-secrets-" + Guid.NewGuid().ToString("N"));
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
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            _settings[key] = value;
    }

    public AzuriteServer Azurite { get; }
    public string TablePrefix { get; }
    public string SecretFolder { get; }
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

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

    /// <summary>A client that sends the admin key.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    public HttpClient CreateAnonymousClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
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
