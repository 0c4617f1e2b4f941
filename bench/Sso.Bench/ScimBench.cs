using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Bench;

// Provisions N users and N group memberships through the SCIM API and measures each operation,
// then the userName lookup every IdP sends before a create, at the final directory size.
//   dotnet run -c Release --project bench/Sso.Bench -- [--users 10000] [--parallel 16] [--url http://127.0.0.1:7071 --admin-key KEY]
// Without --url it starts Azurite and the app in-process (the test host, real HTTP pipeline, no socket).
public static class ScimBench
{
    public static async Task<int> RunAsync(string[] args)
    {

        var users = IntArg("--users", 10_000);
        var parallel = IntArg("--parallel", 16);
        var lookups = IntArg("--lookups", 2_000);
        var url = StringArg("--url");

        AzuriteServer? azurite = null;
        SsoAppFactory? app = null;
        HttpClient admin;
        Func<HttpClient> newClient;
        if (url is null)
        {
            // WebApplicationFactory finds the app's content root from a test assembly's attributes; a console app names it.
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SSO_FUNCTIONS", Path.Combine(RepositoryPaths.Root, "functions", "Sso.Functions"));
            azurite = await AzuriteServer.StartAsync();
            app = new SsoAppFactory(azurite, new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
            admin = app.CreateAdminClient();
            newClient = app.CreateAnonymousClient;
        }
        else
        {
            var key = StringArg("--admin-key") ?? Environment.GetEnvironmentVariable("SSO_ADMIN_KEY")
                      ?? throw new InvalidOperationException("Pass --admin-key or set SSO_ADMIN_KEY.");
            newClient = () => new HttpClient { BaseAddress = new Uri(url) };
            admin = newClient();
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
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

            Console.WriteLine($"Serverless.Sso SCIM bench: {users} users, {parallel} parallel requests, {(url ?? "in-process over Azurite")}");
            Console.WriteLine($"{"operation",-34} {"count",7} {"ops/s",9} {"p50 ms",8} {"p99 ms",8} {"errors",7}");

            var userIds = new string[users];
            await MeasureAsync("POST /Users", users, async i =>
            {
                var response = await scim.PostAsync($"{basePath}/Users", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench.user{{i}}@example.com","externalId":"ext-{{i}}",
                     "active":true,"name":{"givenName":"Bench","familyName":"User {{i}}"},"emails":[{"primary":true,"type":"work","value":"bench.user{{i}}@example.com"}]}
                    """));
                if (response.IsSuccessStatusCode) userIds[i] = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                return response.IsSuccessStatusCode;
            });

            var groups = Math.Max(1, users / 100);
            var groupIds = new string[groups];
            await MeasureAsync("POST /Groups", groups, async i =>
            {
                var response = await scim.PostAsync($"{basePath}/Groups", Scim($$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Bench group {{i}}"}"""));
                if (response.IsSuccessStatusCode) groupIds[i] = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
                return response.IsSuccessStatusCode;
            });

            // One membership per user, added one PATCH at a time as Okta and Entra ID push them; parallel
            // PATCHes hit the same group (100 users per group) and contend on its ETag.
            await MeasureAsync("PATCH /Groups (add 1 member)", users, async i =>
            {
                var response = await scim.PatchAsync($"{basePath}/Groups/{groupIds[i % groups]}", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"{{userIds[i]}}"}]}]}
                    """));
                return response.IsSuccessStatusCode;
            });

            await MeasureAsync("PATCH /Users (replace title)", Math.Min(users, lookups), async i =>
            {
                var response = await scim.PatchAsync($"{basePath}/Users/{userIds[i]}", Scim($$"""
                    {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"title","value":"Title {{i}}"}]}
                    """));
                return response.IsSuccessStatusCode;
            });

            await MeasureAsync($"GET /Users?filter=userName eq (at {users})", lookups, async i =>
            {
                var name = $"bench.user{Random.Shared.Next(users)}@example.com";
                var response = await scim.GetAsync($"{basePath}/Users?filter={Uri.EscapeDataString($"userName eq \"{name}\"")}");
                return response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonObject>())!["totalResults"]!.GetValue<int>() == 1;
            });
        }
        finally
        {
            if (app is not null) await app.DisposeAsync();
            if (azurite is not null) await azurite.DisposeAsync();
        }
        return 0;

        async Task MeasureAsync(string name, int count, Func<int, Task<bool>> operation)
        {
            var latencies = new double[count];
            var errors = 0;
            var next = -1;
            var total = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    var started = Stopwatch.GetTimestamp();
                    bool ok;
                    try { ok = await operation(i); }
                    catch (HttpRequestException) { ok = false; }
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (!ok) Interlocked.Increment(ref errors);
                }
            }));
            total.Stop();
            Array.Sort(latencies);
            Console.WriteLine($"{name,-34} {count,7} {count / total.Elapsed.TotalSeconds,9:0.0} {Percentile(latencies, 0.50),8:0.0} {Percentile(latencies, 0.99),8:0.0} {errors,7}");
        }

        static double Percentile(double[] sorted, double p) => Latency.Percentile(sorted, p);

        static StringContent Scim(string json) => new(json, Encoding.UTF8, "application/scim+json");

        int IntArg(string name, int fallback) => BenchArgs.Int(args, name, fallback);

        string? StringArg(string name) => BenchArgs.String(args, name);
    }
}
