using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Messaging.ServiceBus;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;
using Sso.Functions.Tests.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.Deprovisioning;

/// <summary>
/// The dead-letter routes of the management API with the Service Bus backend configured as in
/// Azure (<c>Queues:Backend=servicebus</c>), the process's <see cref="ServiceBusClient"/> replaced
/// by <see cref="RecordingServiceBus"/>. The replay sends on its request path, so it shows what
/// a route answers when Service Bus fails or hangs.
/// </summary>
public sealed class DeadLetterServiceBusTests : IAsyncLifetime
{
    private readonly RecordingServiceBus _bus = new();
    private ServiceBusAppFactory? _app;

    private ServiceBusAppFactory App => _app ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _bus.DeadLetters[DeprovisionWorkerQueue] =
        [
            RecordingServiceBus.DeadLetter(7, new WorkEnvelope("evt_sb.revoke", "user.revoke", """{"userId":"usr_sb"}""").Write(),
                "evt_sb.revoke", "user.revoke", deliveryCount: 10, enqueuedTime: new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero)),
        ];
        _app = new ServiceBusAppFactory(await AzuriteServer.Shared, _bus);
        _ = _app.Server;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }

    private const string DeprovisionWorkerQueue = Sso.Functions.Deprovisioning.DeprovisionWorker.QueueName;

    private sealed class ServiceBusAppFactory(AzuriteServer azurite, RecordingServiceBus bus) : SsoAppFactory(azurite,
        new Dictionary<string, string?>
        {
            ["Queues:Backend"] = "servicebus",
            ["Queues:ServiceBusNamespace"] = "sso-test.servicebus.windows.net",
        })
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<ServiceBusClient>(bus));
        }
    }

    [Fact]
    public void Uses_the_service_bus_backend_from_configuration()
    {
        Assert.IsType<ServiceBusWorkQueue>(App.Get<IWorkQueue>());
        Assert.IsType<ServiceBusDeadLetterQueue>(App.Get<IDeadLetterQueue>());
        Assert.Same(_bus, App.Get<ServiceBusClient>());
    }

    [Fact]
    public async Task Lists_the_dead_letters_of_a_queue()
    {
        var listed = await App.CreateAdminClient().GetFromJsonAsync<JsonObject>($"/api/v1/deadletters?queue={DeprovisionWorkerQueue}");

        var deadLetter = Assert.Single(listed!["data"]!.AsArray())!;
        Assert.Equal("7", deadLetter["id"]!.GetValue<string>());
        Assert.Equal("evt_sb.revoke", deadLetter["messageId"]!.GetValue<string>());
        Assert.Equal("user.revoke", deadLetter["kind"]!.GetValue<string>());
        Assert.Equal("MaxDeliveryCountExceeded", deadLetter["reason"]!.GetValue<string>());
        Assert.Equal(10, deadLetter["deliveryCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Lists_every_queue_side_by_side_so_slow_answers_do_not_add_up()
    {
        _bus.Clock = App.Clock;
        _bus.PeekDelay = TimeSpan.FromSeconds(7);

        var listing = App.CreateAdminClient().GetAsync("/api/v1/deadletters");
        var queues = FunctionTable.Queues.Select(q => q.QueueName).Distinct().Count();
        // One after another, the second peek would start only after the first one's 7 s.
        // Every peek starts while the fake clock stands still: only side-by-side peeks can get there.
        await _bus.WhenPeeksStartedAsync(queues, TimeSpan.FromSeconds(30));
        Assert.False(listing.IsCompleted, "the listing ended before the clock moved");
        App.Clock.Advance(TimeSpan.FromSeconds(7));

        using var response = await listing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single((await response.Content.ReadFromJsonAsync<JsonObject>())!["data"]!.AsArray());
    }

    [Fact]
    public async Task Replays_a_dead_letter_and_answers_202()
    {
        using var response = await App.CreateAdminClient().PostAsync($"/api/v1/deadletters/{DeprovisionWorkerQueue}/7/replay", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.StartsWith("evt_sb.revoke.replay-", Assert.Single(_bus.Sent(DeprovisionWorkerQueue)).MessageId);
        Assert.Empty(_bus.DeadLetters[DeprovisionWorkerQueue]);
    }

    [Fact]
    public async Task Answers_503_problem_json_and_keeps_the_dead_letter_when_service_bus_fails()
    {
        _bus.SendFailure = new ServiceBusException("namespace unreachable", ServiceBusFailureReason.ServiceCommunicationProblem);

        using var response = await App.CreateAdminClient().PostAsync($"/api/v1/deadletters/{DeprovisionWorkerQueue}/7/replay", null);

        await AssertUnavailableAsync(response);
        Assert.Single(_bus.DeadLetters[DeprovisionWorkerQueue]);
        Assert.Contains($"abandon {DeprovisionWorkerQueue} 7", _bus.Log);
    }

    [Fact]
    public async Task Answers_503_problem_json_when_the_apps_identity_may_not_send_to_service_bus()
    {
        // What the SDK throws when the identity has no Data Sender role on the namespace.
        _bus.SendFailure = new UnauthorizedAccessException("Unauthorized access. 'Send' claim(s) are required to perform this operation.");

        using var response = await App.CreateAdminClient().PostAsync($"/api/v1/deadletters/{DeprovisionWorkerQueue}/7/replay", null);

        await AssertUnavailableAsync(response);
        Assert.Single(_bus.DeadLetters[DeprovisionWorkerQueue]);
    }

    [Fact]
    public async Task Answers_503_problem_json_when_service_bus_hangs_past_the_operation_timeout()
    {
        _bus.SendHangs = true;

        var replay = App.CreateAdminClient().PostAsync($"/api/v1/deadletters/{DeprovisionWorkerQueue}/7/replay", null);
        await _bus.SendStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        App.Clock.Advance(ServiceBusQueueOptions.DefaultOperationTimeout);

        using var response = await replay.WaitAsync(TimeSpan.FromSeconds(30));
        await AssertUnavailableAsync(response);
        Assert.Single(_bus.DeadLetters[DeprovisionWorkerQueue]);
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(503, problem!["status"]!.GetValue<int>());
        Assert.EndsWith("/storage-unavailable", problem["type"]!.GetValue<string>());
        Assert.DoesNotContain("namespace", problem.ToJsonString()); // details stay in the log
    }
}
