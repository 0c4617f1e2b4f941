using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Tests.Storage;

/// <summary>The Service Bus sender over the SDK's test seams (<see cref="RecordingServiceBus"/>).</summary>
public sealed class ServiceBusWorkQueueTests
{
    private static readonly ServiceBusQueueOptions Options = ServiceBusQueueOptions.From(Settings());

    private readonly RecordingServiceBus _bus = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 6, 21, 0, 0, TimeSpan.Zero));

    private ServiceBusWorkQueue Create() => new(_bus, Options, _clock);

    private static IConfiguration Settings(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?> { ["Queues:ServiceBusNamespace"] = "sso-test.servicebus.windows.net" };
        foreach (var (key, value) in settings) values[key] = value;
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    private static List<WorkEnvelope> Envelopes(int count, int bodyChars = 10) =>
        Enumerable.Range(1, count).Select(i => new WorkEnvelope($"evt_{i}.revoke", "user.revoke", $"\"{new string('x', bodyChars)}\"")).ToList();

    [Fact]
    public async Task Sends_the_envelope_as_the_body_with_its_id_kind_and_content_type()
    {
        var envelope = new WorkEnvelope("evt_1.user.revoke", "user.revoke", """{"userId":"usr_1","note":"ü"}""");

        await Create().SendAsync("deprovision", [envelope], default);

        var (queue, messages) = Assert.Single(_bus.Batches);
        Assert.Equal("deprovision", queue);
        var message = Assert.Single(messages);
        Assert.Equal("evt_1.user.revoke", message.MessageId); // duplicate detection keys on it
        Assert.Equal("user.revoke", message.Subject);
        Assert.Equal("application/json", message.ContentType);
        Assert.Empty(message.ApplicationProperties);
        Assert.Equal(envelope, WorkEnvelope.Read(message.Body.ToString()));
        // What the Functions host hands the worker: the body as a string under the binding name.
        var payload = System.Text.Encoding.UTF8.GetBytes(new System.Text.Json.Nodes.JsonObject
        {
            ["Data"] = new System.Text.Json.Nodes.JsonObject { ["message"] = message.Body.ToString() },
            ["Metadata"] = new System.Text.Json.Nodes.JsonObject { ["MessageId"] = "\"" + message.MessageId + "\"", ["DeliveryCount"] = "1" },
        }.ToJsonString());
        Assert.Equal(new WorkItem("evt_1.user.revoke", "user.revoke", envelope.Body, 1), FunctionInvocation.ReadWorkItem(payload));
    }

    [Fact]
    public async Task Sends_several_messages_as_one_batch_in_order()
    {
        var envelopes = Envelopes(5);

        await Create().SendAsync("events", envelopes, default);

        var (_, messages) = Assert.Single(_bus.Batches);
        Assert.Equal(envelopes.Select(e => e.MessageId), messages.Select(m => m.MessageId));
    }

    [Fact]
    public async Task Sends_a_batch_when_it_refuses_the_next_message_and_starts_a_new_one()
    {
        var envelopes = Envelopes(10, bodyChars: 100);
        var oneMessage = ServiceBusWorkQueue.ToMessage(envelopes[0]).Body.ToMemory().Length;
        _bus.BatchBodyLimit = oneMessage * 3 + oneMessage / 2;

        await Create().SendAsync("events", envelopes, default);

        Assert.Equal([3, 3, 3, 1], _bus.Batches.Select(b => b.Messages.Count));
        Assert.Equal(envelopes.Select(e => e.MessageId), _bus.Sent("events").Select(m => m.MessageId));
    }

    [Fact]
    public async Task Refuses_a_message_that_does_not_fit_in_an_empty_batch_with_its_id_and_the_limit()
    {
        _bus.BatchBodyLimit = 1024;
        var huge = new WorkEnvelope("evt_big.revoke", "user.revoke", "\"" + new string('x', 2000) + "\"");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Create().SendAsync("events", [huge], default));

        Assert.Contains("evt_big.revoke", refused.Message);
        Assert.Contains("at most 1024 bytes", refused.Message);
        Assert.Empty(_bus.Batches);
    }

    [Fact]
    public async Task Sends_what_fits_before_an_oversized_message_and_then_fails()
    {
        _bus.BatchBodyLimit = 1024;
        var envelopes = Envelopes(2).Append(new WorkEnvelope("evt_big.revoke", "user.revoke", "\"" + new string('x', 2000) + "\"")).ToList();

        await Assert.ThrowsAsync<InvalidOperationException>(() => Create().SendAsync("events", envelopes, default));

        // The caller (outbox, fan-out) sends again; duplicate detection drops the two repeats.
        Assert.Equal(["evt_1.revoke", "evt_2.revoke"], _bus.Sent("events").Select(m => m.MessageId));
    }

    [Fact]
    public async Task Schedules_a_later_send_at_the_injected_clock_plus_the_delay()
    {
        var envelope = new WorkEnvelope("whd_1.attempt-2", "webhook.deliver", "{}");

        await Create().SendLaterAsync("webhooks", envelope, TimeSpan.FromSeconds(90), default);

        var (queue, message, at) = Assert.Single(_bus.Scheduled);
        Assert.Equal("webhooks", queue);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromSeconds(90), at);
        Assert.Equal("whd_1.attempt-2", message.MessageId);
        Assert.Equal("webhook.deliver", message.Subject);
        Assert.Equal(envelope, WorkEnvelope.Read(message.Body.ToString()));
        Assert.Empty(_bus.Batches);
    }

    [Fact]
    public async Task Sends_at_once_when_there_is_no_delay()
    {
        await Create().SendLaterAsync("webhooks", new WorkEnvelope("whd_1", "webhook.deliver", "{}"), TimeSpan.Zero, default);

        Assert.Empty(_bus.Scheduled);
        Assert.Equal("whd_1", Assert.Single(_bus.Sent("webhooks")).MessageId);
    }

    [Fact]
    public async Task Keeps_one_sender_per_queue()
    {
        var queue = Create();

        await queue.SendAsync("events", Envelopes(1), default);
        await queue.SendAsync("events", Envelopes(2), default);
        await queue.SendLaterAsync("events", Envelopes(1)[0], TimeSpan.FromSeconds(5), default);
        await queue.SendAsync("deprovision", Envelopes(1), default);

        Assert.Equal(2, _bus.SendersCreated);
    }

    [Fact]
    public async Task Lets_a_service_bus_failure_through_so_the_outbox_keeps_the_event()
    {
        _bus.SendFailure = new ServiceBusException("namespace unreachable", ServiceBusFailureReason.ServiceCommunicationProblem);

        await Assert.ThrowsAsync<ServiceBusException>(() => Create().SendAsync("events", Envelopes(1), default));
    }

    [Fact]
    public async Task Gives_up_with_a_timeout_when_the_namespace_hangs_past_the_operation_timeout()
    {
        _bus.SendHangs = true;

        var send = Create().SendAsync("events", Envelopes(1), default);
        await _bus.SendStarted.Task;
        _clock.Advance(Options.OperationTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(send.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => send);
        Assert.Contains("Queues:ServiceBus:OperationTimeoutSeconds", timeout.Message);
    }

    [Fact]
    public void Sets_the_client_retry_options_so_a_request_gives_up_within_ten_seconds()
    {
        var retry = Options.ToClientOptions().RetryOptions;

        Assert.Equal(ServiceBusRetryMode.Exponential, retry.Mode);
        Assert.Equal(2, retry.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(3), retry.TryTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(200), retry.Delay);
        Assert.Equal(TimeSpan.FromSeconds(1), retry.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(8), Options.OperationTimeout);
        // The SDK's worst case (every try times out, the longest backoff between them) or the
        // operation timeout, whichever comes first, ends before the 10 s a route may take.
        var worstCase = retry.TryTimeout * (retry.MaxRetries + 1) + retry.MaxDelay * retry.MaxRetries;
        Assert.True(TimeSpan.FromTicks(Math.Min(worstCase.Ticks, Options.OperationTimeout.Ticks)) < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Reads_the_retry_settings_from_configuration()
    {
        var options = ServiceBusQueueOptions.From(Settings(
            ("Queues:ServiceBus:TryTimeoutSeconds", "2"), ("Queues:ServiceBus:MaxRetries", "4"),
            ("Queues:ServiceBus:RetryDelayMilliseconds", "100"), ("Queues:ServiceBus:MaxRetryDelayMilliseconds", "400"),
            ("Queues:ServiceBus:OperationTimeoutSeconds", "6")));

        Assert.Equal(new ServiceBusQueueOptions("sso-test.servicebus.windows.net", TimeSpan.FromSeconds(2), 4,
            TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(6)), options);
    }

    [Theory]
    [InlineData("Queues:ServiceBus:MaxRetries", "-1")]
    [InlineData("Queues:ServiceBus:TryTimeoutSeconds", "0")]
    [InlineData("Queues:ServiceBus:OperationTimeoutSeconds", "soon")]
    [InlineData("Queues:ServiceBusNamespace", "https://sso-test.servicebus.windows.net/")]
    public void Refuses_a_setting_out_of_range_by_name(string key, string value)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => ServiceBusQueueOptions.From(Settings((key, value))));
        Assert.Contains(key, refused.Message);
    }
}
