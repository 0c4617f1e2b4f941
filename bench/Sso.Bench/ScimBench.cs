using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Bench;

// Provisions N users and N group memberships through the SCIM API and measures each operation,
// then the userName lookup every IdP sends before a create, at the final directory size.
//   dotnet run -c Release --project bench/Sso.Bench -- [--users 10000] [--parallel 16] [--warmup 0] [--url http://127.0.0.1:7071 --admin-key KEY]
// Without --url it starts Azurite and the app in-process (the test host, real HTTP pipeline, no socket).
public static class ScimBench
{
    public static async Task<int> RunAsync(string[] args)
    {

        var users = IntArg("--users", 10_000);
        var parallel = IntArg("--parallel", 16);
        var lookups = IntArg("--lookups", 2_000);
        // Fewer memberships than users keeps a 10,000-user run within reach on a slow emulator.
        var memberships = Math.Min(users, IntArg("--memberships", users));
        var url = StringArg("--url");

        AzuriteServer? azurite = null;
        SsoAppFactory? app = null;
        HttpClient admin;
        string storageConnection;
        string tablePrefix;
        Func<HttpClient> newClient;
        if (url is null)
        {
            // WebApplicationFactory finds the app's content root from a test assembly's attributes; a console app names it.
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SSO_FUNCTIONS", Path.Combine(RepositoryPaths.Root, "functions", "Sso.Functions"));
            azurite = await AzuriteServer.StartAsync(StringArg("--azurite-node-options"), StringArg("--azurite-debug"));
            app = new SsoAppFactory(azurite, new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
            admin = app.CreateAdminClient();
            newClient = app.CreateAnonymousClient;
            storageConnection = azurite.ConnectionString;
            tablePrefix = app.TablePrefix.ToLowerInvariant();
        }
        else
        {
            var key = StringArg("--admin-key") ?? Environment.GetEnvironmentVariable("SSO_ADMIN_KEY")
                      ?? throw new InvalidOperationException("Pass --admin-key or set SSO_ADMIN_KEY.");
            newClient = () => new HttpClient { BaseAddress = new Uri(url) };
            admin = newClient();
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            // ./run.sh: Azurite's default account and the default table prefix.
            storageConnection = StringArg("--storage") ?? "UseDevelopmentStorage=true";
            tablePrefix = StringArg("--table-prefix") ?? "sso";
        }

        try
        {
            var tenant = await (await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Bench", domains = new[] { $"bench{Guid.NewGuid():N}"[..20] + ".test" } }))
                .Content.ReadFromJsonAsync<JsonObject>();
            var directory = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant!["id"]}/directories", new { name = "Bench", provider = "generic" }))
                .Content.ReadFromJsonAsync<JsonObject>();
            var scim = newClient();
            scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", directory!["token"]!.GetValue<string>());
            var basePath = $"/scim/v2/{directory["id"]}";
            var floor = StorageFloor.For(storageConnection, tablePrefix + "directory", directory["id"]!.GetValue<string>(), parallel);
            var floorCount = IntArg("--floor-ops", 400);
            Func<Task<double>> transactionFloor = () => floor.ThreeRowTransactionsPerSecondAsync(floorCount);
            Func<Task<double>> pointReadFloor = () => floor.PointReadsPerSecondAsync("user|", floorCount * 2);

            var warmup = IntArg("--warmup", 0);
            if (warmup > 0) await WarmUpAsync(warmup);

            Console.WriteLine($"Serverless.Sso SCIM bench: {users} users, {memberships} memberships, {parallel} parallel requests, {(url ?? "in-process over Azurite")}");
            if (warmup > 0) Console.WriteLine($"warm-up (not measured): {warmup} of each operation and of the floor, in a directory of its own");
            Console.WriteLine("floor: the same Azurite in the same run, the directory's own partition, same requests in flight, measured before and after each phase");
            Console.WriteLine($"{"operation",-56} {"count",7} {"ops/s",9} {"p50 ms",8} {"p99 ms",8} {"errors",7} {"floor/s",9} {"ratio",7}   {"storage CPU s",13} {"storage RSS MB",14}");

            var userIds = new string[users];
            await MeasureAsync("POST /Users", users, transactionFloor, async i =>
            {
                var response = await scim.PostAsync($"{basePath}/Users", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench.user{{i}}@example.com","externalId":"ext-{{i}}",
                     "active":true,"name":{"givenName":"Bench","familyName":"User {{i}}"},"emails":[{"primary":true,"type":"work","value":"bench.user{{i}}@example.com"}]}
                    """));
                if (response.IsSuccessStatusCode) userIds[i] = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                return Outcome(response);
            });

            // The lookup every IdP sends before a create, measured as soon as the directory holds all
            // its users, and again once it also holds the memberships.
            async Task LookupsAsync(string phase)
            {
                await MeasureAsync($"GET /Users?userName eq ({users} users{phase})", lookups, pointReadFloor, async i =>
                {
                    var name = $"bench.user{Random.Shared.Next(users)}@example.com";
                    var response = await scim.GetAsync($"{basePath}/Users?filter={Uri.EscapeDataString($"userName eq \"{name}\"")}");
                    if (!response.IsSuccessStatusCode) return Outcome(response);
                    return (await response.Content.ReadFromJsonAsync<JsonObject>())!["totalResults"]!.GetValue<int>() == 1 ? null : "not found";
                });
            }

            await LookupsAsync("");

            var groups = Math.Max(1, users / 100);
            var groupIds = new string[groups];
            await MeasureAsync("POST /Groups", groups, null, async i =>
            {
                var response = await scim.PostAsync($"{basePath}/Groups", Scim($$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Bench group {{i}}"}"""));
                if (response.IsSuccessStatusCode) groupIds[i] = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                return Outcome(response);
            });

            // One membership per user (the first --memberships users), added one PATCH at a time as Okta and Entra ID push them; parallel
            // PATCHes spread over the groups (100 users per group).
            await MeasureAsync("PATCH /Groups (add 1 member)", memberships, transactionFloor, async i =>
            {
                if (userIds[i] is null || groupIds[i % groups] is null) return "skipped";
                var response = await scim.PatchAsync($"{basePath}/Groups/{groupIds[i % groups]}", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"{{userIds[i]}}"}]}]}
                    """));
                return Outcome(response);
            });

            // The issue-14 shape: every request in flight adds a member to the SAME group (Okta and Entra
            // push a big group's members this way), so a design that serialises on the group row shows here.
            var hotGroup = await scim.PostAsync($"{basePath}/Groups", Scim("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Bench hot group"}"""));
            var hotGroupId = (await hotGroup.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            await MeasureAsync($"PATCH /Groups (add 1 member, {parallel} in flight on one group)", Math.Min(users, IntArg("--hot-adds", 1_000)), transactionFloor, async i =>
            {
                if (userIds[i] is null) return "skipped";
                var response = await scim.PatchAsync($"{basePath}/Groups/{hotGroupId}", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"{{userIds[i]}}"}]}]}
                    """));
                return Outcome(response);
            });

            await MeasureAsync("PATCH /Users (replace title)", Math.Min(users, lookups), transactionFloor, async i =>
            {
                if (userIds[i] is null) return "skipped";
                var response = await scim.PatchAsync($"{basePath}/Users/{userIds[i]}", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"title","value":"Title {{i}}"}]}
                    """));
                return Outcome(response);
            });

            await LookupsAsync(", with memberships");
        }
        finally
        {
            if (app is not null) await app.DisposeAsync();
            if (azurite is not null) await azurite.DisposeAsync();
        }
        return 0;

        // Each operation returns null on success, else what went wrong (a status code, "not found").
        // floorRate (null: no floor for this phase) is measured right before and right after the phase.
        async Task MeasureAsync(string name, int count, Func<Task<double>>? floorRate, Func<int, Task<string?>> operation)
        {
            var floorBefore = floorRate is null ? 0 : await floorRate();
            var latencies = new double[count];
            var errors = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
            var next = -1;
            var done = 0;
            var storageCpuBefore = StorageCpuSeconds();
            var total = Stopwatch.StartNew();
            using var progress = new Timer(_ => Console.Error.WriteLine(
                $"  {name}: {Volatile.Read(ref done)}/{count} after {total.Elapsed.TotalSeconds:0} s, storage RSS {StorageRssMegabytes()} MB"),
                null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    var started = Stopwatch.GetTimestamp();
                    string? error;
                    try { error = await operation(i); }
                    catch (HttpRequestException e) { error = e.HttpRequestError.ToString(); }
                    catch (TaskCanceledException) { error = "timeout (100 s)"; }
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (error is not null) errors.AddOrUpdate(error, 1, (_, n) => n + 1);
                    Interlocked.Increment(ref done);
                }
            }));
            total.Stop();
            var storage = azurite is null ? "" : $"   {StorageCpuSeconds() - storageCpuBefore,13:0.0} {StorageRssMegabytes(),14}";
            var floorMean = floorRate is null ? 0 : (floorBefore + await floorRate()) / 2;
            Array.Sort(latencies);
            var errorCount = errors.Values.Sum();
            var rate = count / total.Elapsed.TotalSeconds;
            var ratio = floorMean > 0 ? $"{rate / floorMean,6:0.00}x" : "      -";
            Console.WriteLine($"{name,-56} {count,7} {rate,9:0.0} {Percentile(latencies, 0.50),8:0.0} {Percentile(latencies, 0.99),8:0.0} {errorCount,7} {(floorMean > 0 ? floorMean.ToString("0.0") : "-"),9} {ratio}{storage}");
            if (errorCount > 0) Console.WriteLine($"  errors: {string.Join(", ", errors.Select(e => $"{e.Key} x{e.Value}"))}");
        }

        // --warmup N: runs every measured operation and the floor N times in a tenant and directory of their own
        // before anything is measured, so the measured phases run compiled code (the deployed app is
        // Native AOT and never JITs) and the directory under test holds exactly --users users.
        async Task WarmUpAsync(int count)
        {
            var warmTenant = await (await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Warm-up", domains = new[] { $"warm{Guid.NewGuid():N}"[..20] + ".test" } }))
                .Content.ReadFromJsonAsync<JsonObject>();
            var created = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{warmTenant!["id"]}/directories", new { name = "Warm-up", provider = "generic" }))
                .Content.ReadFromJsonAsync<JsonObject>();
            var client = newClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created!["token"]!.GetValue<string>());
            var path = $"/scim/v2/{created["id"]}";
            var warmFloor = StorageFloor.For(storageConnection, tablePrefix + "directory", created["id"]!.GetValue<string>(), parallel);
            await warmFloor.ThreeRowTransactionsPerSecondAsync(count);
            var ids = new string?[count];
            await ForEachAsync(count, async i =>
            {
                using var response = await client.PostAsync($"{path}/Users", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"warm.user{{i}}@example.com","externalId":"warm-{{i}}",
                     "active":true,"name":{"givenName":"Warm","familyName":"User {{i}}"},"emails":[{"primary":true,"type":"work","value":"warm.user{{i}}@example.com"}]}
                    """));
                if (response.IsSuccessStatusCode) ids[i] = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            });
            await warmFloor.PointReadsPerSecondAsync("user|", count);
            await ForEachAsync(count, async i =>
            {
                using var response = await client.GetAsync($"{path}/Users?filter={Uri.EscapeDataString($"userName eq \"warm.user{i}@example.com\"")}");
                await response.Content.ReadAsStringAsync();
            });
            using var group = await client.PostAsync($"{path}/Groups", Scim("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Warm group"}"""));
            var groupId = (await group.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            await ForEachAsync(count, async i =>
            {
                if (ids[i] is not { } id) return;
                using var added = await client.PatchAsync($"{path}/Groups/{groupId}", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"{{id}}"}]}]}
                    """));
                using var patched = await client.PatchAsync($"{path}/Users/{id}", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"title","value":"Title {{i}}"}]}
                    """));
            });
        }

        async Task ForEachAsync(int count, Func<int, Task> body)
        {
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count) await body(i);
            }));
        }

        static string? Outcome(HttpResponseMessage response) => response.IsSuccessStatusCode ? null : ((int)response.StatusCode).ToString();

        // Azurite's CPU time (user + system) and resident memory from /proc; 0 when not known.
        double StorageCpuSeconds()
        {
            if (azurite?.ProcessId is not { } pid) return 0;
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
            }
            catch (IOException) { return 0; }
        }

        long StorageRssMegabytes()
        {
            if (azurite?.ProcessId is not { } pid) return 0;
            try
            {
                var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
            }
            catch (IOException) { return 0; }
        }

        static double Percentile(double[] sorted, double p) => Latency.Percentile(sorted, p);

        static StringContent Scim(string json) => new(json, Encoding.UTF8, "application/scim+json");

        int IntArg(string name, int fallback) => BenchArgs.Int(args, name, fallback);

        string? StringArg(string name) => BenchArgs.String(args, name);
    }
}
