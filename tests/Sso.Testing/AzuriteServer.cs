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
    private List<Process> _services = [];
    private readonly string? _nodeOptions;
    private readonly IReadOnlyList<string> _nodeArguments;
    private readonly string? _debugLogPath;
    private readonly bool _separateServices;

    private AzuriteServer(int blobPort, int queuePort, int tablePort, string? nodeOptions = null, string? debugLogPath = null,
        bool separateServices = false, IReadOnlyList<string>? nodeArguments = null)
    {
        _nodeArguments = nodeArguments ?? [];
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        _nodeOptions = nodeOptions;
        _debugLogPath = debugLogPath;
        _separateServices = separateServices;
    }

    /// <summary>The Node.js process (with separate services: the table service's), for benches that read its memory and CPU time from /proc.</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    /// <summary>The Node.js processes running: one, or with separate services the table's, the queue's and the blob's.</summary>
    public IReadOnlyList<int> ProcessIds => _services.Where(p => !p.HasExited).Select(p => p.Id).ToList();

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
    /// <param name="separateServices">
    /// Opt-in: the blob, queue and table services as three Node.js processes (<c>azurite-blob</c>,
    /// <c>azurite-queue</c>, <c>azurite-table</c>), as in Azure, where Table Storage and Queue Storage
    /// are separate services: a slow queue request (Azurite scans every message it holds on each
    /// receive) then never holds up table requests. One process by default.
    /// </param>
    /// <param name="nodeArguments">
    /// Options for <c>node</c> itself, given on its command line (Azurite then runs as <c>node [options] script</c>):
    /// those NODE_OPTIONS does not allow, e.g. <c>--cpu-prof</c>.
    /// </param>
    public static async Task<AzuriteServer> StartAsync(string? nodeOptions = null, string? debugLogPath = null, bool separateServices = false,
        IReadOnlyList<string>? nodeArguments = null)
    {
        var server = new AzuriteServer(FreePort(), FreePort(), FreePort(), nodeOptions, debugLogPath, separateServices, nodeArguments);
        await server.StartProcessAsync();
        return server;
    }

    public async Task StopAsync()
    {
        Kill();
        await WaitUntilAsync(() => !CanConnect(TablePort), TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Stops every Azurite process with SIGINT and waits up to <paramref name="timeout"/> for each to
    /// exit on its own, so Node.js writes what it writes at exit (<c>--cpu-prof</c> profiles); a
    /// process still running then is killed.
    /// </summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        foreach (var process in _services.Where(p => !p.HasExited))
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-INT", process.Id.ToString()]) { UseShellExecute = false });
            if (kill is not null) await kill.WaitForExitAsync();
        }
        using var waited = new CancellationTokenSource(timeout);
        foreach (var process in _services)
        {
            try
            {
                await process.WaitForExitAsync(waited.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Kill();
    }

    /// <summary>Starts Azurite again on the same ports (with empty storage: it is in-memory).</summary>
    public Task RestartAsync() => StartProcessAsync();

    private const string KeepAliveSeconds = "120";

    private async Task StartProcessAsync()
    {
        string[] common = ["--silent", "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--disableProductStyleUrl"];
        string[] blob = ["--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString()];
        string[] queue = ["--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString()];
        // Azurite closes a keep-alive connection idle for 5 s; the .NET client keeps idle connections a
        // minute. When a long query blocks Azurite's event loop, it closes many at once just as the client
        // sends on them, and every retry meets another closed one ("connection reset by peer"): idle
        // connections are the client's to close.
        string[] table = ["--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(), "--tableKeepAliveTimeout", KeepAliveSeconds];
        string[] extents = ["--extentMemoryLimit", "256"];
        if (_separateServices)
        {
            // The table service first: ProcessId names it.
            _services =
            [
                StartProcess(RepositoryPaths.AzuriteExecutable + "-table", [.. common, .. table], "table"),
                StartProcess(RepositoryPaths.AzuriteExecutable + "-queue", [.. common, .. extents, .. queue], "queue"),
                StartProcess(RepositoryPaths.AzuriteExecutable + "-blob", [.. common, .. extents, .. blob], "blob"),
            ];
            _process = _services[0];
        }
        else
        {
            _process = StartProcess(RepositoryPaths.AzuriteExecutable,
                [.. common, .. extents, .. blob, .. queue, .. table, "--queueKeepAliveTimeout", KeepAliveSeconds, "--blobKeepAliveTimeout", KeepAliveSeconds], null);
            _services = [_process];
        }
        var ready = await WaitUntilAsync(() => CanConnect(TablePort) && CanConnect(QueuePort) && CanConnect(BlobPort),
            TimeSpan.FromSeconds(60));
        if (!ready)
        {
            Kill();   // never leave a half-started Azurite behind the exception
            throw new InvalidOperationException("Azurite did not open its ports within 60 s.");
        }
    }

    private Process StartProcess(string executable, string[] arguments, string? service)
    {
        if (!File.Exists(executable))
            throw new InvalidOperationException($"Azurite is not installed at {executable}; run ./test.sh (it installs it).");
        var start = new ProcessStartInfo(_nodeArguments.Count > 0 ? "node" : executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_nodeArguments.Count > 0)
        {
            // The .bin entry is a link to the service's script: run that script under node with the options.
            foreach (var argument in _nodeArguments) start.ArgumentList.Add(argument);
            start.ArgumentList.Add(new FileInfo(executable).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? executable);
        }
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (_nodeOptions is not null) start.Environment["NODE_OPTIONS"] = _nodeOptions;
        if (_debugLogPath is not null)
        {
            start.ArgumentList.Add("--debug");
            start.ArgumentList.Add(service is null ? _debugLogPath : $"{_debugLogPath}.{service}");
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Kill()
    {
        foreach (var process in _services)
        {
            try
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
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
