namespace Sso.Bench;

/// <summary>What every bench entry reads from its arguments: <c>--name value</c> pairs.</summary>
public static class BenchArgs
{
    public static string? String(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    public static int Int(string[] args, string name, int fallback) =>
        String(args, name) is { } value && int.TryParse(value, out var parsed) ? parsed : fallback;
}

public static class Latency
{
    /// <summary>The nearest-rank percentile of already sorted samples (0 for none).</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

/// <summary>
/// CPU time spent by this process (the app, in-process, and its HTTP client) and by Azurite. On a
/// shared machine the rate of a path moves with the load; the CPU it costs per operation moves far less.
/// </summary>
public readonly record struct CpuTimes(TimeSpan App, TimeSpan Azurite)
{
    public static CpuTimes Read(Sso.Testing.AzuriteServer azurite)
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        var azuriteTime = TimeSpan.Zero;
        if (azurite.ProcessId is { } pid)
        {
            // Azurite runs as node under a launcher; count the whole process tree below it.
            foreach (var id in ProcessTree(pid))
                try { using var process = System.Diagnostics.Process.GetProcessById(id); azuriteTime += process.TotalProcessorTime; }
                catch (ArgumentException) { }
                catch (InvalidOperationException) { }
        }
        return new(self.TotalProcessorTime, azuriteTime);
    }

    public static CpuTimes operator -(CpuTimes a, CpuTimes b) => new(a.App - b.App, a.Azurite - b.Azurite);

    private static IEnumerable<int> ProcessTree(int root)
    {
        yield return root;
        var children = $"/proc/{root}/task/{root}/children";
        if (!File.Exists(children)) yield break;
        foreach (var child in File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            foreach (var id in ProcessTree(int.Parse(child)))
                yield return id;
    }
}

/// <summary>
/// Counts the requests this process sends to Azurite (from the HTTP client's own metrics), by
/// service and method: each one costs Azurite CPU, a transaction's rows more.
/// </summary>
public sealed class StorageRequestCounter : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new();
    private readonly Dictionary<int, string> _services;
    private volatile bool _stopped;

    public StorageRequestCounter(Sso.Testing.AzuriteServer azurite)
    {
        _services = new() { [azurite.TablePort] = "table", [azurite.QueuePort] = "queue", [azurite.BlobPort] = "blob" };
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            if (_stopped) return;
            string? method = null;
            int? port = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "http.request.method") method = tag.Value as string;
                else if (tag.Key == "server.port" && tag.Value is int p) port = p;
            }
            if (port is { } known && _services.TryGetValue(known, out var service))
                _counts.AddOrUpdate($"{service} {method}", 1, (_, n) => n + 1);
        });
        _listener.Start();
    }

    public (int Total, IReadOnlyDictionary<string, int> ByKind) Stop()
    {
        _stopped = true;
        var snapshot = new Dictionary<string, int>(_counts);
        return (snapshot.Values.Sum(), snapshot);
    }

    public void Dispose() => _listener.Dispose();
}
