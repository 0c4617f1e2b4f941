using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Testing;

namespace Sso.Bench;

// Issue 6: time from the SCIM DELETE to (a) the user's access token being refused by
// /oauth/userinfo and (b) the dsync.user.deprovisioned webhook arriving at a receiver, and the
// deprovisioning throughput.
//   dotnet run -c Release --project bench/Sso.Bench -- deprovision [--users 200] [--idle 20] [--parallel 4] [--poll-ms 50] [--check-ms 20] [--concurrency 8]
// The first --idle users are deleted one at a time (the pipeline's latency with nothing queued);
// the rest in a burst from --parallel clients (latency under backlog, and the throughput).
// The app runs in-process over a fresh Azurite with the local Storage-queue dispatcher playing
// the Functions host (--concurrency messages per queue in flight, default 8 as in ./run.sh, the
// queues drained side by side, polling every --poll-ms when idle): not Service Bus
// and not the deployed host, so the figures are the pipeline's own cost plus the poll interval.
public static class DeprovisionBench
{
    private const string DeprovisionedType = "dsync.user.deprovisioned";

    /// <summary>The test factory with the real clock: revocation compares issue and revoke instants.</summary>
    private sealed class RealClockAppFactory(AzuriteServer azurite, IDictionary<string, string?> settings) : SsoAppFactory(azurite, settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton(TimeProvider.System));
        }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var users = IntArg("--users", 200);
        var parallel = Math.Max(1, IntArg("--parallel", 4));
        var pollMs = IntArg("--poll-ms", 50);
        var checkMs = IntArg("--check-ms", 20);
        var idle = Math.Clamp(IntArg("--idle", 20), 0, users);
        // What ./run.sh runs by default (the test factory's own default is one message at a time).
        var concurrency = Math.Clamp(IntArg("--concurrency", LocalDispatcherOptions.From(new ConfigurationBuilder().Build()).Concurrency), 1, 64);

        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_SSO_FUNCTIONS", Path.Combine(RepositoryPaths.Root, "functions", "Sso.Functions"));
        await using var azurite = await AzuriteServer.StartAsync();
        await using var app = new RealClockAppFactory(azurite, new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Queues:LocalDispatcher:Enabled"] = "true",
            ["Queues:LocalDispatcher:PollMilliseconds"] = pollMs.ToString(),
            ["Queues:LocalDispatcher:Concurrency"] = concurrency.ToString(),
            ["Webhooks:RetryBaseSeconds"] = "0",
        });
        using var receiver = new RecordingHttpReceiver();

        // The receiver's clock: when it has read a deprovisioned POST, keyed by the event's data.id.
        var webhookAt = new ConcurrentDictionary<string, long>();
        receiver.Responder = request =>
        {
            if (request.Headers.GetValueOrDefault("Sso-Event-Type") == DeprovisionedType
                && JsonNode.Parse(request.Body)?["data"]?["id"]?.GetValue<string>() is { } id)
                webhookAt.TryAdd(id, Stopwatch.GetTimestamp());
            return new ScriptedResponse(200);
        };

        var admin = app.CreateAdminClient();
        var tenant = await (await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Bench", domains = new[] { $"bench{Guid.NewGuid():N}"[..20] + ".test" } }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var tenantId = tenant!["id"]!.GetValue<string>();
        var directory = await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/directories", new { name = "Bench", provider = "generic" }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var webhook = await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.BaseUrl + "events", tenantId });
        if (!webhook.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"webhook registration failed: {(int)webhook.StatusCode} {await webhook.Content.ReadAsStringAsync()}");
            return 1;
        }
        var scim = app.CreateAnonymousClient();
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", directory!["token"]!.GetValue<string>());
        var basePath = $"/scim/v2/{directory["id"]}";
        var probe = app.CreateAnonymousClient();

        // Setup, not timed: N users, each with a live access token that userinfo accepts.
        var userIds = new string[users];
        var tokens = new string[users];
        var accessTokens = app.Get<AccessTokenStore>();
        await ForEachAsync(users, 8, async i =>
        {
            var created = await scim.PostAsync($"{basePath}/Users", new StringContent($$"""
                {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"leaver{{i}}@example.com","externalId":"ext-{{i}}",
                 "active":true,"emails":[{"primary":true,"type":"work","value":"leaver{{i}}@example.com"}]}
                """, Encoding.UTF8, "application/scim+json"));
            created.EnsureSuccessStatusCode();
            userIds[i] = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
            var now = DateTimeOffset.UtcNow;
            tokens[i] = await accessTokens.CreateAsync(new IssuedAccessToken(new SignedInUser
            {
                Subject = "sub_" + userIds[i],
                TenantId = new TenantId(tenantId),
                ConnectionId = new Sso.Functions.Connections.ConnectionId("con_" + new string('0', 26)),
                Email = $"leaver{i}@example.com",
                Role = "member",
                DirectoryUserId = userIds[i],
                DirectoryId = directory["id"]!.GetValue<string>(),   // as a sign-in through the directory records it
                AuthTime = now,
            }, new ClientId("cli_" + new string('0', 26)), "openid email", now, now + AccessTokenStore.Lifetime), default);
            if (await UserInfoAsync(tokens[i]) != HttpStatusCode.OK)
                throw new InvalidOperationException($"userinfo refused user {i}'s fresh token before the DELETE.");
        });
        // The user.created events go through the same queues; let them drain first.
        await WaitForIdleQueuesAsync(app.Get<StorageWorkQueue>(), TimeSpan.FromSeconds(120));

        Console.WriteLine($"Serverless.Sso deprovisioning bench: {users} users ({idle} one at a time, then {users - idle} from {parallel} parallel SCIM DELETEs), {Environment.ProcessorCount} cores");
        Console.WriteLine($"  in-process app over Azurite, local Storage-queue dispatcher ({app.Get<Sso.Functions.Hosting.LocalDispatcherOptions>().Concurrency} messages per queue in flight, {pollMs} ms poll when idle), not Service Bus;");
        Console.WriteLine($"  (a) = first 401 from /oauth/userinfo (every pending token checked in rounds, {checkMs} ms apart); (b) = receiver read the webhook POST");

        var deleteSent = new long[users];
        var deleteMs = new double[users];
        var refusedAt = new long[users];
        var pending = new ConcurrentDictionary<int, byte>();
        var deleteErrors = 0;
        var probeErrors = 0;
        var rounds = 0;
        var roundTicks = 0L;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120 + users));
        var deletesDone = false;

        var checker = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && (!deletesDone || !pending.IsEmpty))
            {
                var roundStart = Stopwatch.GetTimestamp();
                var batch = pending.Keys.ToArray();
                await ForEachAsync(batch.Length, 8, async k =>
                {
                    var i = batch[k];
                    var status = await UserInfoAsync(tokens[i]);
                    if (status == HttpStatusCode.Unauthorized)
                    {
                        refusedAt[i] = Stopwatch.GetTimestamp();
                        pending.TryRemove(i, out _);
                    }
                    else if (status != HttpStatusCode.OK) Interlocked.Increment(ref probeErrors);
                });
                if (batch.Length > 0)
                {
                    rounds++;
                    roundTicks += Stopwatch.GetTimestamp() - roundStart;
                }
                await Task.Delay(checkMs);
            }
        });

        // Phase 1, idle pipeline: one user at a time, the next DELETE only once the last is refused and notified.
        for (var i = 0; i < idle; i++)
        {
            await DeleteAsync(i);
            while (!stop.IsCancellationRequested && (refusedAt[i] == 0 || !webhookAt.ContainsKey(userIds[i]))) await Task.Delay(5);
        }

        // Phase 2, a burst: the rest deleted as fast as `parallel` clients can, as an IdP pushes a mass offboarding.
        var first = Stopwatch.GetTimestamp();
        await ForEachAsync(users - idle, parallel, i => DeleteAsync(idle + i));
        var lastDelete = Stopwatch.GetTimestamp();
        deletesDone = true;

        await checker;
        while (!stop.IsCancellationRequested && userIds.Any(id => !webhookAt.ContainsKey(id))) await Task.Delay(10);
        var timedOut = stop.IsCancellationRequested;

        var burst = Enumerable.Range(idle, users - idle).ToArray();
        var lastWebhook = burst.Select(i => webhookAt.GetValueOrDefault(userIds[i], first)).DefaultIfEmpty(first).Max();
        var lastRefusal = burst.Select(i => refusedAt[i]).DefaultIfEmpty(first).Max();

        Console.WriteLine($"{"measure",-44} {"count",7} {"p50 ms",8} {"p99 ms",8} {"max ms",8} {"missing",8}");
        Row("SCIM DELETE /Users/{id} response", Enumerable.Range(0, users).Select(i => deleteMs[i]).Order().ToArray(), deleteErrors);
        if (idle > 0)
        {
            var idleUsers = Enumerable.Range(0, idle).ToArray();
            Row("idle: (a) DELETE sent -> token refused", Refusals(idleUsers), idle - Refusals(idleUsers).Length);
            Row("idle: (b) DELETE sent -> webhook received", Webhooks(idleUsers), idle - Webhooks(idleUsers).Length);
        }
        if (burst.Length > 0)
        {
            Row("burst: (a) DELETE sent -> token refused", Refusals(burst), burst.Length - Refusals(burst).Length);
            Row("burst: (b) DELETE sent -> webhook received", Webhooks(burst), burst.Length - Webhooks(burst).Length);
            Console.WriteLine($"burst throughput: {burst.Length} users in {Ms(first, lastWebhook) / 1000:0.00} s (first DELETE to last webhook) = " +
                              $"{burst.Length / (Ms(first, lastWebhook) / 1000):0.0} users/s; DELETEs took {Ms(first, lastDelete) / 1000:0.00} s " +
                              $"({burst.Length / (Ms(first, lastDelete) / 1000):0.0}/s), last token refused at {Ms(first, lastRefusal) / 1000:0.00} s");
        }
        Console.WriteLine($"userinfo checks: {rounds} rounds, mean round {(rounds == 0 ? 0 : Stopwatch.GetElapsedTime(0, roundTicks / rounds).TotalMilliseconds):0.0} ms " +
                          $"+ {checkMs} ms pause (the resolution of (a); the checks load the same 2 cores); unexpected statuses {probeErrors}");
        if (timedOut) Console.WriteLine("TIMED OUT: some users were not refused or not notified.");
        return timedOut || deleteErrors > 0 || probeErrors > 0 ? 1 : 0;

        async Task DeleteAsync(int i)
        {
            deleteSent[i] = Stopwatch.GetTimestamp();
            pending.TryAdd(i, 0);
            using var deleted = await scim.DeleteAsync($"{basePath}/Users/{userIds[i]}");
            deleteMs[i] = Stopwatch.GetElapsedTime(deleteSent[i]).TotalMilliseconds;
            if (deleted.StatusCode != HttpStatusCode.NoContent) Interlocked.Increment(ref deleteErrors);
        }

        double[] Refusals(int[] of) => of.Where(i => refusedAt[i] != 0).Select(i => Ms(deleteSent[i], refusedAt[i])).Order().ToArray();

        double[] Webhooks(int[] of) => of.Where(i => webhookAt.ContainsKey(userIds[i]))
            .Select(i => Ms(deleteSent[i], webhookAt[userIds[i]])).Order().ToArray();

        async Task<HttpStatusCode> UserInfoAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await probe.SendAsync(request);
            return response.StatusCode;
        }

        static void Row(string name, double[] sorted, int missing) =>
            Console.WriteLine($"{name,-44} {sorted.Length,7} {Percentile(sorted, 0.50),8:0.0} {Percentile(sorted, 0.99),8:0.0} " +
                              $"{(sorted.Length == 0 ? 0 : sorted[^1]),8:0.0} {missing,8}");

        static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

        static double Percentile(double[] sorted, double p) => Latency.Percentile(sorted, p);

        int IntArg(string name, int fallback) => BenchArgs.Int(args, name, fallback);
    }

    private static async Task ForEachAsync(int count, int parallel, Func<int, Task> body)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await body(i);
        }));
    }

    /// <summary>Until the three work queues hold no message (visible or in flight) twice in a row.</summary>
    private static async Task WaitForIdleQueuesAsync(StorageWorkQueue queues, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        var quiet = 0;
        while (quiet < 2)
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("The work queues did not drain before the bench.");
            var total = 0;
            foreach (var name in new[] { "events", "deprovision", "webhooks" })
                total += (await (await queues.GetQueueAsync(name, default)).GetPropertiesAsync()).Value.ApproximateMessagesCount;
            quiet = total == 0 ? quiet + 1 : 0;
            await Task.Delay(200);
        }
    }
}
