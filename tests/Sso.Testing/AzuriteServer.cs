using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sso.Testing;

/// <summary>
/// A real Azurite (npm) on free loopback ports, in-memory. <see cref="Shared"/> is started once
/// per test run; a test that needs to stop storage starts its own.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly Lazy<Task<AzuriteServer>> SharedServer = new(async () =>
    {
        var server = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Kill();
        return server;
    });

    private Process? _process;
    private readonly string? _nodeOptions;
    private readonly string? _debugLogPath;

    private AzuriteServer(int blobPort, int queuePort, int tablePort, string? nodeOptions = null, string? debugLogPath = null)
    {
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        _nodeOptions = nodeOptions;
        _debugLogPath = debugLogPath;
    }

    /// <summary>The Node.js process, for benches that read its memory and CPU time from /proc.</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    public static Task<AzuriteServer> Shared => SharedServer.Value;

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{AccountName};" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/{AccountName};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{AccountName};";

    /// <param name="nodeOptions">NODE_OPTIONS for the Azurite process, e.g. <c>--max-old-space-size=4096</c>.</param>
    /// <param name="debugLogPath">Azurite's <c>--debug</c> log (every request; large).</param>
    public static async Task<AzuriteServer> StartAsync(string? nodeOptions = null, string? debugLogPath = null)
    {
        var server = new AzuriteServer(FreePort(), FreePort(), FreePort(), nodeOptions, debugLogPath);
        await server.StartProcessAsync();
        return server;
    }

    public async Task StopAsync()
    {
        Kill();
        await WaitUntilAsync(() => !CanConnect(TablePort), TimeSpan.FromSeconds(10));
    }

    /// <summary>Starts Azurite again on the same ports (with empty storage: it is in-memory).</summary>
    public Task RestartAsync() => StartProcessAsync();

    private async Task StartProcessAsync()
    {
        var executable = RepositoryPaths.AzuriteExecutable;
        if (!File.Exists(executable))
            throw new InvalidOperationException($"Azurite is not installed at {executable}; run ./test.sh (it installs it).");
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList =
            {
                "--silent", "--inMemoryPersistence", "--disableTelemetry", "--extentMemoryLimit", "256", "--skipApiVersionCheck", "--disableProductStyleUrl",
                "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(),
                "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(),
                "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_nodeOptions is not null) start.Environment["NODE_OPTIONS"] = _nodeOptions;
        if (_debugLogPath is not null)
        {
            start.ArgumentList.Add("--debug");
            start.ArgumentList.Add(_debugLogPath);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var ready = await WaitUntilAsync(() => CanConnect(TablePort) && CanConnect(QueuePort) && CanConnect(BlobPort),
            TimeSpan.FromSeconds(60));
        if (!ready) throw new InvalidOperationException("Azurite did not open its ports within 60 s.");
    }

    private void Kill()
    {
        try
        {
            if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
            _process?.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (condition()) return true;
            await Task.Delay(100);
        }
        return condition();
    }
}
