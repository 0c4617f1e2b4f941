using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Sso.Testing;

namespace Sso.Deploy.Tests.Smoke;

/// <summary>
/// The handler as its own process, started the way the Functions host starts a custom handler:
/// from the package folder, told its port in FUNCTIONS_CUSTOMHANDLER_PORT, configured by
/// environment variables (app settings), with no local dispatcher (the host drives the triggers).
/// </summary>
public sealed class HandlerProcess : IAsyncDisposable
{
    public const string AdminKey = "smoke-admin-key-0123456789abcdef";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _secrets;

    private HandlerProcess(Process process, int port, string secrets)
    {
        _process = process;
        Port = port;
        _secrets = secrets;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }
    public HttpClient Client { get; }
    public TimeSpan StartupTime { get; private set; }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <param name="settings">App settings (environment variable names) that replace the defaults, e.g. to start a
    /// second life of the same service: the same <c>Storage__TablePrefix</c> and <c>Secrets__LocalPath</c>.</param>
    public static async Task<HandlerProcess> StartAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, AzuriteServer azurite,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = AzuriteServer.FreePort();
        var secrets = settings?.GetValueOrDefault("Secrets__LocalPath")
                      ?? Path.Combine(Path.GetTempPath(), "sso-smoke-secrets-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in Environment(port, azurite, secrets)) start.Environment[key] = value;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key] = value;

        var clock = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        var handler = new HandlerProcess(process, port, secrets);
        process.OutputDataReceived += (_, e) => handler.Append(e.Data);
        process.ErrorDataReceived += (_, e) => handler.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The handler exited with {process.ExitCode}:\n{handler.Output}");
            try
            {
                using var health = await handler.Client.GetAsync("/health");
                if (health.IsSuccessStatusCode)
                {
                    handler.StartupTime = clock.Elapsed;
                    return handler;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(20);
        }
        await handler.DisposeAsync();
        throw new InvalidOperationException($"The handler did not answer /health within 60 s:\n{handler.Output}");
    }

    private static Dictionary<string, string> Environment(int port, AzuriteServer azurite, string secrets) => new()
    {
        ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(),
        ["FUNCTIONS_WORKER_RUNTIME"] = "custom",
        // Development only so that a webhook may point at the test's loopback http receiver.
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["Storage__ConnectionString"] = azurite.ConnectionString,
        ["Storage__TablePrefix"] = "smoke" + Guid.NewGuid().ToString("N")[..10],
        ["Secrets__Backend"] = "local",
        ["Secrets__LocalPath"] = secrets,
        ["Queues__Backend"] = "storage",
        ["Queues__LocalDispatcher__Enabled"] = "false",
        ["Sso__PublicBaseUrl"] = $"https://sso.smoke.test",
        // As in Azure: only the hash of the key is configured.
        ["Admin__ApiKeyHashes"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))),
    };

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>Kills the process outright (SIGKILL on Linux): no shutdown code runs, whatever it held in memory is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_secrets, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
