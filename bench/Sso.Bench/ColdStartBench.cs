using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Sso.Testing;

namespace Sso.Bench;

/// <summary>
/// Cold start of the handler as the Functions host sees it: from process start to the first
/// 200 from /health (which reads Table Storage), for the Native AOT binary and the JIT build,
/// median of N starts; then the process's resident memory idle and after a burst of requests.
/// </summary>
public static class ColdStartBench
{
    private const string AdminKey = "bench-admin-key-0123456789abcdef";

    private sealed record Build(string Name, string FileName, string[] Arguments, string WorkingDirectory, string SizedFile);

    public static async Task<int> RunAsync(string[] args)
    {
        var starts = args.Length > 0 && int.TryParse(args[0], out var n) ? n : 10;
        var root = RepositoryPaths.Root;
        var aot = Path.Combine(root, "dist", "app", "Sso.Functions");
        var jit = Path.Combine(root, "functions", "Sso.Functions", "bin", "Release", "net10.0", "Sso.Functions.dll");
        foreach (var required in new[] { aot, jit })
            if (!File.Exists(required))
            {
                Console.Error.WriteLine($"missing {required}: bench/bench.sh builds both before it runs");
                return 1;
            }

        Build[] builds =
        [
            new("AOT", aot, [], Path.GetDirectoryName(aot)!, aot),
            new("JIT", "dotnet", [jit], Path.GetDirectoryName(jit)!, jit),
        ];

        await using var azurite = await AzuriteServer.StartAsync();
        var rows = new List<string[]>();
        foreach (var build in builds)
        {
            var prefix = "bench" + build.Name.ToLowerInvariant() + Guid.NewGuid().ToString("N")[..8];
            var secrets = Path.Combine(Path.GetTempPath(), "sso-bench-" + Guid.NewGuid().ToString("N"));
            try
            {
                // One start first, not counted: it creates the tables and the signing key, which a
                // deployed app has long had.
                await using (await StartAsync(build, azurite, prefix, secrets)) { }

                var times = new List<double>();
                for (var i = 0; i < starts; i++)
                {
                    await using var started = await StartAsync(build, azurite, prefix, secrets);
                    times.Add(started.StartupMilliseconds);
                }

                await using var measured = await StartAsync(build, azurite, prefix, secrets);
                await Task.Delay(TimeSpan.FromSeconds(2));
                var idle = Memory(measured.Process.Id);
                var requests = await LoadAsync(measured.Client, TimeSpan.FromSeconds(5));
                var loaded = Memory(measured.Process.Id);

                times.Sort();
                rows.Add(
                [
                    build.Name, Median(times).ToString("0"), times[0].ToString("0"), times[^1].ToString("0"),
                    Mb(idle.Rss), Mb(loaded.Rss), Mb(loaded.Hwm), requests.ToString(),
                    build.Name == "AOT" ? Mb(new FileInfo(build.SizedFile).Length / 1024) : "(framework)",
                ]);
            }
            finally
            {
                if (Directory.Exists(secrets)) Directory.Delete(secrets, recursive: true);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"coldstart: process start to first 200 from /health over Azurite, {starts} starts each, {Environment.ProcessorCount} cores");
        Console.WriteLine();
        string[] header = ["build", "median ms", "min ms", "max ms", "idle RSS MB", "loaded RSS MB", "peak RSS MB", "requests in 5 s", "binary MB"];
        Console.WriteLine("| " + string.Join(" | ", header) + " |");
        Console.WriteLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var row in rows) Console.WriteLine("| " + string.Join(" | ", row) + " |");
        return 0;
    }

    private sealed class Started(Process process, HttpClient client, double startupMilliseconds) : IAsyncDisposable
    {
        public Process Process => process;
        public HttpClient Client => client;
        public double StartupMilliseconds => startupMilliseconds;

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    private static async Task<Started> StartAsync(Build build, AzuriteServer azurite, string tablePrefix, string secrets)
    {
        var port = AzuriteServer.FreePort();
        var start = new ProcessStartInfo(build.FileName)
        {
            WorkingDirectory = build.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in build.Arguments) start.ArgumentList.Add(argument);
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString();
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Storage__ConnectionString"] = azurite.ConnectionString;
        start.Environment["Storage__TablePrefix"] = tablePrefix;
        start.Environment["Secrets__Backend"] = "local";
        start.Environment["Secrets__LocalPath"] = secrets;
        start.Environment["Queues__Backend"] = "storage";
        start.Environment["Queues__LocalDispatcher__Enabled"] = "false";
        start.Environment["Sso__PublicBaseUrl"] = "https://sso.bench.test";
        start.Environment["Admin__ApiKeyHashes"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey)));
        // Console logging costs start-up time in both builds alike; keep what the host would see.
        start.Environment["Logging__LogLevel__Default"] = "Warning";

        var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(10),
        };
        var clock = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{build.FileName} did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                using var health = await client.GetAsync("/health");
                if (health.IsSuccessStatusCode) return new Started(process, client, clock.Elapsed.TotalMilliseconds);
            }
            catch (HttpRequestException)
            {
                if (process.HasExited) throw new InvalidOperationException($"{build.Name} exited with {process.ExitCode}.");
            }
            await Task.Delay(1);
        }
        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException($"{build.Name} did not answer /health within 60 s.");
    }

    /// <summary>Health checks, tenant writes and reads from 8 clients at once for the duration.</summary>
    private static async Task<int> LoadAsync(HttpClient client, TimeSpan duration)
    {
        var count = 0;
        var until = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
        {
            var i = 0;
            while (DateTime.UtcNow < until)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants")
                {
                    Content = new StringContent($$"""{"name":"Bench {{worker}}-{{i}}","domains":["b{{worker}}-{{i}}-{{Guid.NewGuid():N}}.test"]}""",
                        Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
                using (var created = await client.SendAsync(request)) created.EnsureSuccessStatusCode();
                using var list = new HttpRequestMessage(HttpMethod.Get, "/api/v1/tenants?limit=20");
                list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
                using (var listed = await client.SendAsync(list)) listed.EnsureSuccessStatusCode();
                using (var health = await client.GetAsync("/health")) health.EnsureSuccessStatusCode();
                Interlocked.Add(ref count, 3);
                i++;
            }
        }));
        return count;
    }

    /// <summary>VmRSS (resident now) and VmHWM (peak resident) of a process, in kB.</summary>
    private static (long Rss, long Hwm) Memory(int pid)
    {
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
        }
        return (rss, hwm);

        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }

    private static string Mb(long kb) => (kb / 1024.0).ToString("0.0");

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
