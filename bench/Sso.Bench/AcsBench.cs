using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Protocols.Saml;
using Sso.Testing;

namespace Sso.Bench;

// ACS validation cost per response through SamlResponseValidator.Validate (base64 decode, safe
// parse, signature verify, decrypt, the profile's rules): the CPU work of one sign-in at the ACS.
//   dotnet run -c Release --project bench/Sso.Bench -- acs [--responses 500] [--parallel 1] [--http-responses 100] [--http-warmup 100] [--azurite-cpu-prof DIR] [--no-http]
// Every assertion ID is single-use at the endpoint, so N distinct responses (own Response and
// Assertion IDs, own AES key) are signed and encrypted up front and only validation is timed.
// The validator has no replay cache (the endpoint's is in Table Storage), so this excludes it,
// as it excludes the pending sign-in lookup and the code issue around it. Those are in the
// second part: POST /saml/acs/{connection} on the app in-process over a fresh Azurite, each
// response answering its own pending sign-in (GET /oauth/authorize, done up front, not timed),
// timed to the 302 back to the client with a code.
public static class AcsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var responses = IntArg("--responses", 500);
        var parallel = Math.Max(1, IntArg("--parallel", 1));
        const int warmup = 50;

        (string Name, Func<int, string> Build)[] cases =
        [
            ("signed assertion (RSA-SHA256)", i => SamlTestIdp.ToBase64(SamlTestIdp.SignAssertion(Distinct(i)))),
            ("signed + encrypted, AES-256-GCM + RSA-OAEP", i =>
                SamlTestIdp.ToBase64(SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(Distinct(i)), TestCipher.Aes256Gcm))),
            // CBC is taken only under a Response signature and only from a connection that lists it.
            ("signed response, encrypted AES-256-CBC + RSA-OAEP", i =>
                SamlTestIdp.ToBase64(SamlTestIdp.SignResponse(SamlTestIdp.EncryptAssertion(Distinct(i), TestCipher.Aes256Cbc)))),
        ];

        Console.WriteLine($"Serverless.Sso ACS bench: SamlResponseValidator.Validate, {responses} distinct responses per case, " +
                          $"{parallel} thread(s), {Environment.ProcessorCount} cores, RSA-2048 keys, in-process (no HTTP, no storage)");
        Console.WriteLine($"{"response",-44} {"count",7} {"bytes",7} {"ops/s",9} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
        var failed = 0;
        foreach (var (name, build) in cases)
        {
            var parameters = SamlTestIdp.Parameters() with
            {
                AllowedEncryptionAlgorithms = [SamlAlgorithms.Aes128Gcm, SamlAlgorithms.Aes256Gcm, SamlAlgorithms.Aes256Cbc],
            };
            var prepared = Enumerable.Range(0, responses + warmup).Select(build).ToArray();
            for (var i = responses; i < prepared.Length; i++) SamlResponseValidator.Validate(prepared[i], parameters);

            var latencies = new double[responses];
            var errors = 0;
            var next = -1;
            var total = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(() =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < responses)
                {
                    var started = Stopwatch.GetTimestamp();
                    var result = SamlResponseValidator.Validate(prepared[i], parameters);
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (!result.IsSuccess || result.Value.Id != AssertionId(i)) Interlocked.Increment(ref errors);
                }
            })));
            total.Stop();
            Array.Sort(latencies);
            failed += errors;
            Console.WriteLine($"{name,-44} {responses,7} {prepared[0].Length,7} {responses / total.Elapsed.TotalSeconds,9:0.0} " +
                              $"{Percentile(latencies, 0.50),8:0.000} {Percentile(latencies, 0.99),8:0.000} {errors,7}");
        }
        if (!args.Contains("--no-http")) failed += await HttpAsync(IntArg("--http-responses", 100), Math.Max(1, IntArg("--http-parallel", 8)),
            Math.Max(0, IntArg("--http-warmup", 100)), BenchArgs.String(args, "--azurite-cpu-prof"));
        return failed == 0 ? 0 : 1;

        static System.Xml.XmlDocument Distinct(int i) =>
            SamlTestIdp.Response(new TestResponse { ResponseId = $"_resp_bench_{i:D6}", AssertionId = AssertionId(i) });

        static string AssertionId(int i) => $"_assert_bench_{i:D6}";

        int IntArg(string name, int fallback) => BenchArgs.Int(args, name, fallback);
    }

    private static double Percentile(double[] sorted, double p) => Latency.Percentile(sorted, p);

    private const string RedirectUri = "https://app.example.test/callback";

    /// <summary>The full ACS over HTTP: pending sign-in read, validation, replay cache, code issue.</summary>
    private static async Task<int> HttpAsync(int count, int parallel, int warmups, string? cpuProfileDirectory)
    {
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SSO_FUNCTIONS", Path.Combine(RepositoryPaths.Root, "functions", "Sso.Functions"));
        if (cpuProfileDirectory is not null) Directory.CreateDirectory(cpuProfileDirectory);
        // --azurite-cpu-prof: Azurite runs as node --cpu-prof and is stopped with SIGINT at the end, so it writes its profile
        // (the whole run: setup, warm-up, floors and the measured phase; bench/cpuprofile-summary.js sums it up).
        await using var azurite = await AzuriteServer.StartAsync(
            nodeArguments: cpuProfileDirectory is null ? null : ["--cpu-prof", $"--cpu-prof-dir={Path.GetFullPath(cpuProfileDirectory)}"]);
        await using var app = new SsoAppFactory(azurite, new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" });
        var admin = app.CreateAdminClient();
        var browser = app.CreateAnonymousClient();
        var idp = new SamlTestIdp();

        var domain = "acme" + Guid.NewGuid().ToString("N")[..10] + ".test";
        var tenant = await (await admin.PostAsJsonAsync("/api/v1/tenants", new JsonObject { ["name"] = "Acme", ["domains"] = new JsonArray(domain) }))
            .Content.ReadFromJsonAsync<JsonObject>();
        // Just-in-time provisioning, so the one test user signs in without a directory (it exists after the warm-up).
        (await admin.PatchAsync($"/api/v1/tenants/{tenant!["id"]}",
            JsonContent.Create(new JsonObject { ["settings"] = new JsonObject { ["jitProvisioning"] = true } }))).EnsureSuccessStatusCode();
        var client = await (await admin.PostAsJsonAsync("/api/v1/clients", new { name = "Product", redirectUris = new[] { RedirectUri } }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var created = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenant!["id"]}/connections", new JsonObject
        {
            ["type"] = "saml", ["idpEntityId"] = SamlTestIdp.EntityId, ["idpSsoUrl"] = SamlTestIdp.SsoUrl,
            ["idpCertificates"] = new JsonArray(idp.CertificatePem),
        });
        if (created.StatusCode != HttpStatusCode.Created)
        {
            Console.Error.WriteLine($"connection create failed: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            return 1;
        }
        var connection = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var acsUrl = connection["acsUrl"]!.GetValue<string>();
        var spEntityId = connection["spEntityId"]!.GetValue<string>();
        var email = "alice@" + domain;

        // Not timed: one pending sign-in per response, as each browser would have started.
        var prepared = new (string Response, string RelayState)[count + warmups];
        for (var i = 0; i < prepared.Length; i++)
        {
            var challenge = Convert.ToBase64String(SHA256.HashData(RandomNumberGenerator.GetBytes(32))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var authorize = await browser.GetAsync($"/oauth/authorize?response_type=code&scope=openid%20email&client_id={client!["clientId"]}" +
                $"&redirect_uri={Uri.EscapeDataString(RedirectUri)}&state=s{i}&login_hint={Uri.EscapeDataString(email)}" +
                $"&code_challenge={challenge}&code_challenge_method=S256");
            if (authorize.StatusCode != HttpStatusCode.Redirect)
            {
                Console.Error.WriteLine($"authorize answered {(int)authorize.StatusCode}: {await authorize.Content.ReadAsStringAsync()}");
                return 1;
            }
            var (requestId, relayState, _) = SamlTestIdp.ReadRedirect(authorize.Headers.Location!);
            prepared[i] = (idp.SignedResponse(new SamlTestIdp.Assertion
            {
                AcsUrl = acsUrl, SpEntityId = spEntityId, InResponseTo = requestId, Now = app.Clock.GetUtcNow(), Email = email,
            }), relayState!);
        }
        var acsPath = new Uri(acsUrl).PathAndQuery;
        var reported = 0;
        async Task<bool> PostAsync((string Response, string RelayState) form)
        {
            using var response = await browser.PostAsync(acsPath, new FormUrlEncodedContent(
                [new("SAMLResponse", form.Response), new("RelayState", form.RelayState)]));
            var ok = response.StatusCode == HttpStatusCode.Redirect
                     && response.Headers.Location?.ToString() is { } location && location.StartsWith(RedirectUri + "?", StringComparison.Ordinal)
                     && location.Contains("code=", StringComparison.Ordinal);
            if (!ok && Interlocked.Exchange(ref reported, 1) == 0)
            {
                var body = await response.Content.ReadAsStringAsync();
                Console.Error.WriteLine($"ACS answered {(int)response.StatusCode} {response.Headers.Location} {body[..Math.Min(300, body.Length)]}");
            }
            return ok;
        }
        // Warm-up, not measured, with the same requests in flight: the measured sign-ins run compiled
        // code (the deployed app is Native AOT and never JITs).
        var nextWarmup = count - 1;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref nextWarmup)) < prepared.Length) await PostAsync(prepared[i]);
        }));

        // The floor: a 3-row transaction on the same Azurite, same requests in flight, before and after.
        var floorTable = new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString).GetTableClient(app.TablePrefix.ToLowerInvariant() + "benchfloor");
        await floorTable.CreateIfNotExistsAsync();
        var floor = new StorageFloor(floorTable, "floor", parallel);
        var floorCpuBefore = CpuTimes.Read(azurite);
        var floorBefore = await floor.ThreeRowTransactionsPerSecondAsync(Math.Max(200, count));
        var floorCpu = CpuTimes.Read(azurite) - floorCpuBefore;

        using var requests = new StorageRequestCounter(azurite);
        var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
        var jitMethodsBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        var cpuBefore = CpuTimes.Read(azurite);
        Console.Error.WriteLine($"[acs] measuring {count} sign-ins (pid {Environment.ProcessId})");
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
                var ok = await PostAsync(prepared[i]);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (!ok) Interlocked.Increment(ref errors);
            }
        }));
        total.Stop();
        var cpu = CpuTimes.Read(azurite) - cpuBefore;
        var jit = System.Runtime.JitInfo.GetCompilationTime() - jitBefore;
        var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethodsBefore;
        // The batches written after the answers (outbox, audit) of the last sign-ins belong to them too.
        await app.FlushAsync();
        var counted = requests.Stop();
        Console.Error.WriteLine("[acs] measured");
        var floorMean = (floorBefore + await floor.ThreeRowTransactionsPerSecondAsync(Math.Max(200, count))) / 2;
        Array.Sort(latencies);
        var rate = count / total.Elapsed.TotalSeconds;
        Console.WriteLine($"{$"POST /saml/acs (signed; HTTP, Azurite, {parallel} in flight)",-44} {count,7} {Encoding.UTF8.GetByteCount(prepared[0].Response),7} " +
                          $"{rate,9:0.0} {Percentile(latencies, 0.50),8:0.000} {Percentile(latencies, 0.99),8:0.000} {errors,7}");
        Console.WriteLine($"  floor: 3-row transaction on the same Azurite, {parallel} in flight: {floorMean:0.0}/s; ACS end to end = {rate / floorMean:0.00}x the floor");
        Console.WriteLine($"  CPU per sign-in: app (and its in-process HTTP client) {cpu.App.TotalMilliseconds / count:0.00} ms, Azurite {cpu.Azurite.TotalMilliseconds / count:0.00} ms; a floor transaction: Azurite {floorCpu.Azurite.TotalMilliseconds / Math.Max(200, count):0.00} ms");
        // The deployed app is Native AOT and never JITs; the bench runs without tiered compilation, so this stays near zero.
        Console.WriteLine($"  JIT in the measured phase (first calls only: the bench compiles each method once, optimized; the Native AOT app never JITs): {jitMethods} methods, " +
                          $"{jit.TotalMilliseconds / count:0.00} ms per sign-in compiling (wall time of its threads, not CPU)");
        Console.WriteLine($"  storage requests per sign-in (measured phase, then its batches flushed): {counted.Total / (double)count:0.00}: " +
                          string.Join(", ", counted.ByKind.OrderByDescending(k => k.Value).Select(k => $"{k.Key} {k.Value / (double)count:0.00}")));
        Console.WriteLine("  the HTTP row: app in-process (test host, no socket) over Azurite; pending sign-in read, replay-cache write and code issue included");
        if (cpuProfileDirectory is not null)
        {
            await app.DisposeAsync();
            await azurite.StopGracefullyAsync(TimeSpan.FromSeconds(60));
            Console.WriteLine($"  Azurite CPU profile: {string.Join(", ", Directory.GetFiles(cpuProfileDirectory, "*.cpuprofile"))}");
        }
        return errors;
    }
}
