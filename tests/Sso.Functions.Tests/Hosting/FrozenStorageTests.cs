using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.Hosting;

/// <summary>
/// Issue 14 item 5: storage that hangs (Azurite frozen with SIGSTOP, its sockets still accepting)
/// is answered 503 in each route's own format within 10 s, and the service recovers without a
/// restart once storage answers again. Its own Azurite: the shared one is never frozen.
/// </summary>
public sealed class FrozenStorageTests
{
    // The contract's bound; the request deadline is 8 s, so a loaded machine stays inside it.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Every_route_answers_503_in_its_own_format_within_10_s_while_storage_hangs_and_recovers_after()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        // The production budgets (the test factory loosens them for a loaded machine).
        await using var app = new SsoAppFactory(azurite, new Dictionary<string, string?>
        {
            ["Hosting:RequestTimeoutSeconds"] = null,
            ["Storage:TryTimeoutSeconds"] = null,
        });
        Assert.Equal(TimeSpan.FromSeconds(8), app.Get<Sso.Functions.Hosting.RequestDeadlineOptions>().Deadline);
        var flow = await SignInFlow.CreateAsync(app, new JsonObject { ["jitProvisioning"] = true });
        var directory = await (await flow.Admin.PostAsJsonAsync($"/api/v1/tenants/{flow.TenantId}/directories",
            new { name = "Frozen", provider = "generic" })).Content.ReadFromJsonAsync<JsonObject>();
        var scim = app.CreateAnonymousClient();
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", directory!["token"]!.GetValue<string>());
        var usersPath = $"/scim/v2/{directory["id"]!.GetValue<string>()}/Users";
        // A sign-in started before the freeze: its ACS post is what an IdP would send during it.
        var (requestId, relayState) = await flow.StartAsync("state-frozen", SignInFlow.NewPkce().Challenge);
        var samlResponse = flow.Idp.SignedResponse(flow.Assertion(requestId));
        Assert.Equal(HttpStatusCode.Created, (await scim.PostAsync(usersPath, ScimUser("before"))).StatusCode);

        var pid = azurite.ProcessId ?? throw new InvalidOperationException("Azurite is not running.");
        Signal("STOP", pid);
        try
        {
            var (scimWrite, admin, acs, token) = (
                TimedAsync(() => scim.PostAsync(usersPath, ScimUser("during"))),
                TimedAsync(() => flow.Admin.PostAsJsonAsync("/api/v1/tenants",
                    new { name = "During", domains = new[] { "d" + Guid.NewGuid().ToString("N")[..12] + ".test" } })),
                TimedAsync(() => flow.PostAcsAsync(samlResponse, relayState)),
                TimedAsync(() => flow.RedeemAsync("code-while-frozen", "verifier-while-frozen-0123456789012345678901")));
            await Task.WhenAll(scimWrite, admin, acs, token);

            await AssertUnavailableAsync(await scimWrite, "application/scim+json", body =>
            {
                var error = JsonNode.Parse(body)!;
                Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", error["schemas"]![0]!.GetValue<string>());
                Assert.Equal("503", error["status"]!.GetValue<string>());
            });
            await AssertUnavailableAsync(await admin, "application/problem+json",
                body => Assert.Equal(503, JsonNode.Parse(body)!["status"]!.GetValue<int>()));
            await AssertUnavailableAsync(await acs, "text/html", body => Assert.Contains("Temporarily unavailable", body));
            await AssertUnavailableAsync(await token, "application/json",
                body => Assert.Equal("temporarily_unavailable", JsonNode.Parse(body)!["error"]!.GetValue<string>()));
        }
        finally
        {
            Signal("CONT", pid);
        }

        // The same calls, no restart: the SCIM write, the admin call, a whole sign-in and its code exchange.
        Assert.Equal(HttpStatusCode.Created, (await scim.PostAsync(usersPath, ScimUser("after"))).StatusCode);
        var tenant = await flow.Admin.PostAsJsonAsync("/api/v1/tenants",
            new { name = "After", domains = new[] { "a" + Guid.NewGuid().ToString("N")[..12] + ".test" } });
        Assert.Equal(HttpStatusCode.Created, tenant.StatusCode);
        var (code, verifier) = await flow.SignInAsync("state-after");
        var redeemed = await flow.RedeemAsync(code, verifier);
        Assert.Equal(HttpStatusCode.OK, redeemed.StatusCode);
    }

    private static StringContent ScimUser(string name) => new($$"""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{name}}-{{Guid.NewGuid():N}}@example.com","active":true}
        """, Encoding.UTF8, "application/scim+json");

    private static async Task<(HttpResponseMessage Response, TimeSpan Elapsed)> TimedAsync(Func<Task<HttpResponseMessage>> send)
    {
        var stopwatch = Stopwatch.StartNew();
        var response = await send();
        // The body too: an answer is only an answer once it has arrived.
        await response.Content.LoadIntoBufferAsync();
        return (response, stopwatch.Elapsed);
    }

    private static async Task AssertUnavailableAsync((HttpResponseMessage Response, TimeSpan Elapsed) answer, string mediaType,
        Action<string> assertBody)
    {
        var (response, elapsed) = answer;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable,
            $"{response.RequestMessage!.RequestUri!.AbsolutePath}: {(int)response.StatusCode} {body}");
        Assert.True(elapsed < Bound, $"{response.RequestMessage.RequestUri.AbsolutePath} took {elapsed.TotalSeconds:0.0} s");
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        assertBody(body);
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString()])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
