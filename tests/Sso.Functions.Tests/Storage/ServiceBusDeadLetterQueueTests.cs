using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Time.Testing;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Tests.Storage;

/// <summary>The dead-letter sub-queue reader over the SDK's test seams (<see cref="RecordingServiceBus"/>).</summary>
public sealed class ServiceBusDeadLetterQueueTests
{
    private static readonly DateTimeOffset Enqueued = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly RecordingServiceBus _bus = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 6, 21, 0, 0, TimeSpan.Zero));

    public ServiceBusDeadLetterQueueTests()
    {
        _bus.DeadLetters["deprovision"] =
        [
            RecordingServiceBus.DeadLetter(11, new WorkEnvelope("evt_a.x", "user.revoke", "{}").Write(), "evt_a.x", "user.revoke",
                deliveryCount: 10, enqueuedTime: Enqueued),
            RecordingServiceBus.DeadLetter(12, new WorkEnvelope("evt_b.x", "user.memberships", """{"userId":"usr_b"}""").Write(), "evt_b.x",
                "user.memberships", reason: "TTLExpiredException", deliveryCount: 3, enqueuedTime: Enqueued.AddMinutes(5)),
            RecordingServiceBus.DeadLetter(13, "not an envelope", "raw-1", subject: "legacy", reason: "", deliveryCount: 1),
        ];
    }

    private ServiceBusDeadLetterQueue Create()
    {
        var options = new ServiceBusQueueOptions("sso-test.servicebus.windows.net", TimeSpan.FromSeconds(3), 2,
            TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));
        return new ServiceBusDeadLetterQueue(_bus, new ServiceBusWorkQueue(_bus, options, _clock), options, _clock);
    }

    [Fact]
    public async Task Lists_by_peeking_the_dead_letter_sub_queue_with_each_field_mapped()
    {
        var listed = await Create().ListAsync("deprovision", 10, default);

        Assert.Equal(
        [
            new DeadLetter("11", "deprovision", "evt_a.x", "user.revoke", "MaxDeliveryCountExceeded", 10, Enqueued),
            new DeadLetter("12", "deprovision", "evt_b.x", "user.memberships", "TTLExpiredException", 3, Enqueued.AddMinutes(5)),
            // Not an envelope: the kind falls back to the subject, a missing reason to a plain word.
            new DeadLetter("13", "deprovision", "raw-1", "legacy", "dead-lettered", 1, null),
        ], listed);
        Assert.Equal(SubQueue.DeadLetter, Assert.Single(_bus.ReceiverOptions).SubQueue);
        Assert.Empty(_bus.Log); // a peek locks, completes and abandons nothing
        Assert.Equal(3, _bus.DeadLetters["deprovision"].Count);
    }

    [Fact]
    public async Task Lists_at_most_the_number_asked_for()
    {
        Assert.Equal(["11"], (await Create().ListAsync("deprovision", 1, default)).Select(d => d.Id));
    }

    [Fact]
    public async Task Replays_under_a_new_message_id_and_completes_the_dead_letter_only_after_the_send()
    {
        Assert.True(await Create().ReplayAsync("deprovision", "12", default));

        var copy = Assert.Single(_bus.Sent("deprovision"));
        Assert.StartsWith("evt_b.x.replay-", copy.MessageId);
        Assert.Equal("user.memberships", copy.Subject);
        Assert.Equal(new WorkEnvelope(copy.MessageId, "user.memberships", """{"userId":"usr_b"}"""), WorkEnvelope.Read(copy.Body.ToString()));
        Assert.Equal([$"send deprovision {copy.MessageId}", "complete deprovision 12", "abandon deprovision 11", "abandon deprovision 13"],
            _bus.Log);
        Assert.Equal([11L, 13L], _bus.DeadLetters["deprovision"].Select(m => m.SequenceNumber));
        Assert.Equal(SubQueue.DeadLetter, Assert.Single(_bus.ReceiverOptions).SubQueue);
    }

    [Fact]
    public async Task Leaves_the_dead_letter_in_place_and_fails_when_the_resend_fails()
    {
        _bus.SendFailure = new ServiceBusException("namespace busy", ServiceBusFailureReason.ServiceBusy);

        await Assert.ThrowsAsync<ServiceBusException>(() => Create().ReplayAsync("deprovision", "12", default));

        Assert.DoesNotContain(_bus.Log, entry => entry.StartsWith("complete") || entry.StartsWith("send"));
        Assert.Contains("abandon deprovision 12", _bus.Log);
        Assert.Equal([11L, 12L, 13L], _bus.DeadLetters["deprovision"].Select(m => m.SequenceNumber));
    }

    [Fact]
    public async Task Leaves_the_dead_letter_in_place_when_the_resend_times_out()
    {
        _bus.SendHangs = true;

        var replay = Create().ReplayAsync("deprovision", "12", default);
        await _bus.SendStarted.Task;
        _clock.Advance(TimeSpan.FromSeconds(8));

        await Assert.ThrowsAsync<TimeoutException>(() => replay);
        Assert.DoesNotContain(_bus.Log, entry => entry.StartsWith("complete"));
        Assert.Equal([11L, 12L, 13L], _bus.DeadLetters["deprovision"].Select(m => m.SequenceNumber));
    }

    [Theory]
    [InlineData("99")]
    [InlineData("not-a-sequence-number")]
    [InlineData("13")] // there, but its body is no work envelope: nothing to replay
    public async Task Reports_false_and_changes_nothing_for_a_dead_letter_it_cannot_replay(string id)
    {
        Assert.False(await Create().ReplayAsync("deprovision", id, default));

        Assert.Empty(_bus.Batches);
        Assert.DoesNotContain(_bus.Log, entry => entry.StartsWith("complete"));
        Assert.Equal(3, _bus.DeadLetters["deprovision"].Count);
    }
}
