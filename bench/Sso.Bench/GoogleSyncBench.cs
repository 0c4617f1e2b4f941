using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Sso.Testing;

namespace Sso.Bench;

// Issue 17: one Google Workspace sync of --users users and --groups groups (each with
// --members-per-group direct members) from the loopback fake of Google's Directory API, through the
// real app in-process over a fresh Azurite, with the local dispatcher running the google-sync
// queue (and the events queue) as the Functions host would.
//   dotnet run -c Release --project bench/Sso.Bench -- google [--users 10000] [--groups 100] [--members-per-group 100] [--profile]
//     [--stop-after-first] [--azurite-cpu-prof <dir>] [--setting Key=Value ...]
// --azurite-cpu-prof starts each Azurite process as node --cpu-prof (NODE_OPTIONS does not allow it) and stops them with SIGINT
// at the end, so each writes a .cpuprofile into <dir> (bench/cpuprofile-summary.js sums one up).
// Reports the wall time from POST /sync to lastSyncResult "succeeded", the number of google-sync
// messages (pages), and the HTTP requests the process made to Azurite's table and queue ports and
// to the fake (from the System.Net.Http request-duration metric, tagged with the server port).
// Then a second, unchanged sync: what a sync costs when nothing changed.
public static class GoogleSyncBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var users = BenchArgs.Int(args, "--users", 10_000);
        var groups = BenchArgs.Int(args, "--groups", 100);
        var membersPerGroup = Math.Min(users, BenchArgs.Int(args, "--members-per-group", 100));

        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SSO_FUNCTIONS", Path.Combine(RepositoryPaths.Root, "functions", "Sso.Functions"));
        // Table Storage and Queue Storage are separate services in Azure: one Azurite process each, so a
        // queue receive (Azurite scans every message it holds) never holds up table requests.
        var cpuProfileDirectory = BenchArgs.String(args, "--azurite-cpu-prof");
        if (cpuProfileDirectory is not null) Directory.CreateDirectory(cpuProfileDirectory);
        await using var azurite = await AzuriteServer.StartAsync(
            nodeArguments: cpuProfileDirectory is null ? null : ["--cpu-prof", $"--cpu-prof-dir={Path.GetFullPath(cpuProfileDirectory)}"],
            separateServices: !args.Contains("--one-azurite"));
        using var google = new FakeGoogleWorkspace { PageSize = 500 };
        var googleUsers = Enumerable.Range(0, users).Select(i => google.AddUser($"user{i}@bench.test", "User", i.ToString())).ToList();
        for (var g = 0; g < groups; g++)
            google.AddGroup($"Group {g}", Enumerable.Range(0, membersPerGroup)
                .Select(m => (googleUsers[(g * 37 + m) % users]["id"]!.GetValue<string>(), "USER")).ToArray());
        var settings = new Dictionary<string, string?>(google.Settings)
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Queues:LocalDispatcher:Enabled"] = "true",
            // Azurite scans every message it holds on each receive, of any queue: an idle queue is asked
            // twice a second (the dispatcher's default), not twenty times, while the events backlog is large.
            ["Queues:LocalDispatcher:PollMilliseconds"] = "500",
            // The Functions host keeps a message locked while its invocation runs; the local dispatcher
            // does not renew, so a step slower than its visibility timeout on a loaded machine would be
            // delivered again and run twice side by side.
            ["Queues:LocalDispatcher:VisibilitySeconds"] = "900",
            // A failed step is received again at once, as Service Bus redelivers an abandoned message.
            ["Queues:LocalDispatcher:RetryImmediately"] = "true",
        };
        // --setting Key=Value (repeatable): an app setting for an experiment, e.g. Outbox:SweepAfterSeconds=3600.
        for (var i = 0; i + 1 < args.Length; i++)
            if (args[i] == "--setting" && args[i + 1].Split('=', 2) is [var key, var value])
                settings[key] = value;
        await using var app = new SsoAppFactory(azurite, settings);

        var requests = new ConcurrentDictionary<int, int>();
        using var meter = new MeterListener();
        meter.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration") listener.EnableMeasurementEvents(instrument);
        };
        meter.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "server.port" && tag.Value is int port) requests.AddOrUpdate(port, 1, (_, n) => n + 1);
        });
        meter.Start();
        using var profile = args.Contains("--profile") ? new RequestProfile() : null;

        var admin = app.CreateAdminClient();
        var tenant = await (await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Bench", domains = new[] { $"bench{Guid.NewGuid():N}"[..20] + ".test" } }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var tenantId = tenant!["id"]!.GetValue<string>();
        var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/directories", new { name = "Bench", provider = "google-directory" }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var directoryId = created!["id"]!.GetValue<string>();
        var url = created["authorizeUrl"]!.GetValue<string>();
        var state = QueryHelpers.ParseQuery(new Uri(url).Query)["state"].ToString();

        Console.WriteLine($"google sync: {users} users, {groups} groups x {membersPerGroup} members, pages of 500 users / {Sso.Functions.GoogleDirectory.GoogleSync.GroupsPerPage} groups");
        string[] runs = args.Contains("--stop-after-first")
            ? ["first sync (everything created)"]
            : ["first sync (everything created)", "second sync (nothing changed)"];
        foreach (var run in runs)
        {
            requests.Clear();
            profile?.Clear();
            var started = Stopwatch.GetTimestamp();
            if (run.StartsWith("first", StringComparison.Ordinal))
                await app.CreateAnonymousClient().GetAsync($"/google/callback?code={Uri.EscapeDataString(google.Consent(url))}&state={Uri.EscapeDataString(state)}");
            else
                await admin.PostAsync($"/api/v1/directories/{directoryId}/sync", null);
            JsonObject view;
            var reported = 0;
            do
            {
                // Progress once a minute: what the run has written so far (the view's counts move with each step).
                if (Stopwatch.GetElapsedTime(started).TotalSeconds >= (reported + 1) * 60)
                {
                    reported++;
                    var so = await admin.GetAsync($"/api/v1/tenants/{tenantId}/directories/{directoryId}");
                    if (so.IsSuccessStatusCode && File.Exists("/proc/loadavg"))
                        Console.WriteLine($"  {reported} min: counts {(await so.Content.ReadFromJsonAsync<JsonObject>())!["counts"]!.ToJsonString()}, "
                                          + $"load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
                }
                await Task.Delay(250);
                // A loaded Azurite may answer the view late (503 after the request deadline): ask again.
                try
                {
                    var answer = await admin.GetAsync($"/api/v1/tenants/{tenantId}/directories/{directoryId}");
                    view = answer.IsSuccessStatusCode ? (await answer.Content.ReadFromJsonAsync<JsonObject>())! : new JsonObject { ["syncing"] = true };
                }
                catch (TaskCanceledException)
                {
                    view = new JsonObject { ["syncing"] = true };   // the client's own timeout
                }
            } while (view["syncing"]!.GetValue<bool>() || view["lastSyncResult"] is null);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.WriteLine($"{run}: {view["lastSyncResult"]} in {seconds:F1} s ({users / seconds:F0} users/s); counts {view["counts"]!.ToJsonString()}");
            Console.WriteLine($"  HTTP requests: Azurite tables {requests.GetValueOrDefault(azurite.TablePort)}, queues {requests.GetValueOrDefault(azurite.QueuePort)}, "
                              + $"Google {requests.GetValueOrDefault(new Uri(google.BaseUrl).Port)}");
            profile?.Print(azurite.TablePort, azurite.QueuePort);
            if (File.Exists("/proc/loadavg")) Console.WriteLine($"  load average (1, 5, 15 min): {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3])}");
        }
        if (cpuProfileDirectory is not null)
        {
            await app.DisposeAsync();   // nothing asks Azurite anything while its profiles are written
            await azurite.StopGracefullyAsync(TimeSpan.FromSeconds(60));
            Console.WriteLine($"  Azurite CPU profiles: {string.Join(", ", Directory.GetFiles(cpuProfileDirectory, "*.cpuprofile"))}");
        }
        return 0;
    }
}

/// <summary>
/// With <c>--profile</c>: the process's HTTP requests by kind (table point read, query by the row
/// kind it filters on, batch, queue call), with count and summed duration, to see where a run's time goes.
/// </summary>
internal sealed class RequestProfile : IDisposable
{
    private readonly ConcurrentDictionary<string, (int Count, double Seconds)> _kinds = new();
    private readonly ActivityListener _listener;

    public RequestProfile()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                var kind = Kind(activity);
                _kinds.AddOrUpdate(kind, (1, activity.Duration.TotalSeconds), (_, v) => (v.Count + 1, v.Seconds + activity.Duration.TotalSeconds));
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Clear() => _kinds.Clear();

    public void Print(int tablePort, int queuePort)
    {
        foreach (var (kind, (count, seconds)) in _kinds.OrderByDescending(k => k.Value.Seconds).Take(25))
            Console.WriteLine($"    {count,7} {seconds,9:F1} s  {seconds / count * 1000,7:F1} ms  {kind}");
    }

    private static string Kind(Activity activity)
    {
        var method = activity.GetTagItem("http.request.method") as string ?? "?";
        var url = activity.GetTagItem("url.full") as string ?? "";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return method + " ?";
        var path = Uri.UnescapeDataString(uri.AbsolutePath);
        var query = Uri.UnescapeDataString(uri.Query);
        var port = uri.Port;
        if (path.Contains("$batch", StringComparison.Ordinal)) return $"{port} batch";
        var filter = System.Text.RegularExpressions.Regex.Match(query, "\\$filter=([^&]*)");
        if (filter.Success)
        {
            // The filter with each quoted value cut to its row kind (the text before the first '|').
            var shape = System.Text.RegularExpressions.Regex.Replace(filter.Groups[1].Value, "'([^'|]*)\\|?[^']*'",
                m => m.Groups[1].Value.Length < 20 ? $"'{m.Groups[1].Value}|…'" : "'…'");
            return $"{port} {method} {path.Split('/')[^1]} query {shape}";
        }
        var point = System.Text.RegularExpressions.Regex.Match(path, "/([^/(]+)\\(PartitionKey='[^']*',\\s*RowKey='([^'|]*)");
        if (point.Success) return $"{port} {method} {point.Groups[1].Value} point {point.Groups[2].Value}|…";
        return $"{port} {method} {System.Text.RegularExpressions.Regex.Replace(path, "[0-9a-f-]{16,}|\\d{3,}", "…")}";
    }

    public void Dispose() => _listener.Dispose();
}
