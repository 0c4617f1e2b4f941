using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Webhooks;
using Sso.Protocols.Webhooks;
using Sso.Testing;

namespace Sso.Deploy.Tests.Smoke;

public abstract class HandlerFixture : IAsyncLifetime
{
    private HandlerProcess? _handler;

    public HandlerProcess Handler => _handler ?? throw new InvalidOperationException("The handler has not started.");

    protected abstract Task<HandlerProcess> StartAsync(AzuriteServer azurite);

    public async Task InitializeAsync() => _handler = await StartAsync(await AzuriteServer.Shared);

    public async Task DisposeAsync()
    {
        if (_handler is not null) await _handler.DisposeAsync();
    }
}

/// <summary>The Native AOT binary from the package folder, exactly as it is deployed.</summary>
public sealed class AotHandlerFixture : HandlerFixture
{
    protected override async Task<HandlerProcess> StartAsync(AzuriteServer azurite)
    {
        await HandlerBuilds.EnsureAotPackageAsync();
        return await HandlerProcess.StartAsync(HandlerBuilds.AotBinary, [], HandlerBuilds.PackageFolder, azurite);
    }
}

/// <summary>The JIT build, so the AOT binary is held to the same smoke.</summary>
public sealed class JitHandlerFixture : HandlerFixture
{
    protected override Task<HandlerProcess> StartAsync(AzuriteServer azurite) =>
        HandlerProcess.StartAsync("dotnet", [HandlerBuilds.JitAssembly], Path.GetDirectoryName(HandlerBuilds.JitAssembly)!, azurite);
}

/// <summary>
/// The end-to-end smoke every build of the handler must pass: health, the management API over
/// Table Storage, and the non-HTTP functions invoked with the Functions host's payloads.
/// </summary>
public abstract class HandlerSmokeTests(HandlerFixture fixture)
{
    private const string InvocationResult = """{"Outputs":{},"Logs":[],"ReturnValue":null}""";

    private HttpClient Client => fixture.Handler.Client;

    private static HttpRequestMessage AdminRequest(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", HandlerProcess.AdminKey);
        if (body is JsonNode json) request.Content = new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json");
        return request;
    }

    [Fact]
    public async Task Answers_health_when_storage_answers()
    {
        using var response = await Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("ok", body!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Creates_a_tenant_and_reads_it_back_with_the_admin_key()
    {
        var domain = $"smoke-{Guid.NewGuid():N}.test";
        using var created = await Client.SendAsync(AdminRequest(HttpMethod.Post, "/api/v1/tenants",
            new JsonObject { ["name"] = "Smoke Corp", ["domains"] = new JsonArray(domain) }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tenant = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = tenant["id"]!.GetValue<string>();
        Assert.StartsWith("ten_", id);
        Assert.Equal(domain, Assert.Single(tenant["domains"]!.AsArray())!.GetValue<string>());

        // A point read binds a TableEntity row: the Azure.Data.Tables path that needs rd.xml under AOT.
        using var read = await Client.SendAsync(AdminRequest(HttpMethod.Get, $"/api/v1/tenants/{id}"));
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("Smoke Corp", (await read.Content.ReadFromJsonAsync<JsonObject>())!["name"]!.GetValue<string>());

        using var taken = await Client.SendAsync(AdminRequest(HttpMethod.Post, "/api/v1/tenants",
            new JsonObject { ["name"] = "Other Corp", ["domains"] = new JsonArray(domain) }));
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
    }

    [Fact]
    public async Task Refuses_the_management_api_without_the_admin_key()
    {
        using var response = await Client.GetAsync("/api/v1/tenants");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Runs_the_timer_function_invoked_with_the_host_payload()
    {
        var timer = Assert.Single(FunctionTable.Timers, t => t.FunctionName == "DomainClaimSweep");
        var payload = new JsonObject
        {
            ["Data"] = new JsonObject
            {
                ["timer"] = new JsonObject
                {
                    ["Schedule"] = new JsonObject { ["AdjustForDST"] = true },
                    ["ScheduleStatus"] = null,
                    ["IsPastDue"] = false,
                },
            },
            ["Metadata"] = new JsonObject
            {
                ["sys"] = new JsonObject
                {
                    ["MethodName"] = timer.FunctionName,
                    ["UtcNow"] = DateTime.UtcNow.ToString("O"),
                    ["RandGuid"] = Guid.NewGuid().ToString(),
                },
            },
        }.ToJsonString();
        using var response = await Client.PostAsync("/" + timer.FunctionName, new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(InvocationResult, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Delivers_a_signed_webhook_when_the_host_invokes_the_queue_worker()
    {
        using var receiver = new RecordingHttpReceiver();
        using var created = await Client.SendAsync(AdminRequest(HttpMethod.Post, "/api/v1/webhooks",
            new JsonObject { ["url"] = receiver.BaseUrl + "hooks/sso", ["description"] = "smoke" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var webhook = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var webhookId = webhook["id"]!.GetValue<string>();
        var secret = webhook["secret"]!.GetValue<string>();

        // What the Service Bus trigger hands the handler: the message body (the work envelope) as
        // a JSON string under the binding name, system properties under Metadata.
        var eventId = "evt_smoke" + Guid.NewGuid().ToString("N")[..8];
        var envelope = WebhookDeliveryWorker.Envelope(
            new WebhookDeliveryMessage(webhookId, eventId, "sso.smoke", null, """{"smoke":true}""", 1));
        var payload = new JsonObject
        {
            ["Data"] = new JsonObject { ["message"] = envelope.Write() },
            ["Metadata"] = new JsonObject
            {
                ["MessageId"] = "\"" + envelope.MessageId + "\"",
                ["DeliveryCount"] = "1",
                ["sys"] = new JsonObject { ["MethodName"] = WebhookDeliveryWorker.Function.FunctionName },
            },
        }.ToJsonString();
        using var response = await Client.PostAsync("/" + WebhookDeliveryWorker.Function.FunctionName,
            new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(InvocationResult, await response.Content.ReadAsStringAsync());

        var delivery = Assert.Single(receiver.Requests);
        Assert.Equal("POST", delivery.Method);
        Assert.Equal("/hooks/sso", delivery.PathAndQuery);
        Assert.Equal("""{"smoke":true}""", delivery.BodyText);
        Assert.Equal(eventId, delivery.Headers["Sso-Event-Id"]);
        var verified = WebhookSignature.Verify(secret, delivery.Headers[WebhookSignature.HeaderName], delivery.Body,
            DateTimeOffset.UtcNow, WebhookSignature.DefaultTolerance);
        Assert.True(verified.IsSuccess);
    }

    [Fact]
    public async Task Fails_a_queue_invocation_it_cannot_read_so_that_the_message_dead_letters()
    {
        // Every worker is routed and answers the host's invocation protocol, also for a message
        // that can never be handled: a non-2xx reply makes Service Bus redeliver, then dead-letter.
        Assert.NotEmpty(FunctionTable.Queues);
        foreach (var queue in FunctionTable.Queues)
        {
            var payload = """{"Data":{"message":"not an envelope"},"Metadata":{"MessageId":"\"m1\"","DeliveryCount":"1"}}""";
            using var response = await Client.PostAsync("/" + queue.FunctionName, new StringContent(payload, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(InvocationResult, await response.Content.ReadAsStringAsync());
        }
    }
}

[Trait("Category", "Aot")]
public sealed class AotSmokeTests(AotHandlerFixture fixture) : HandlerSmokeTests(fixture), IClassFixture<AotHandlerFixture>;

public sealed class JitSmokeTests(JitHandlerFixture fixture) : HandlerSmokeTests(fixture), IClassFixture<JitHandlerFixture>;
