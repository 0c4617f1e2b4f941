using Azure.Messaging.ServiceBus;

namespace Sso.Functions.Tests.Storage;

/// <summary>
/// A Service Bus namespace in memory, built on the SDK's own test seams: the client, sender and
/// receiver types have protected constructors and virtual members, and
/// <see cref="ServiceBusModelFactory"/> makes batches and received messages. It records what the
/// adapter sends, schedules, completes and abandons, in order, in <see cref="Log"/>.
/// </summary>
public sealed class RecordingServiceBus : ServiceBusClient
{
    private readonly Dictionary<string, RecordingSender> _senders = [];

    public RecordingServiceBus() { }

    /// <summary>Every send, schedule, complete and abandon, as "verb queue id".</summary>
    public List<string> Log { get; } = [];

    public int SendersCreated { get; private set; }

    /// <summary>How many bytes of message body one batch takes before it refuses the next message.</summary>
    public long BatchBodyLimit { get; set; } = 256 * 1024;

    /// <summary>Thrown by every send and schedule when set (the namespace refuses or is down).</summary>
    public Exception? SendFailure { get; set; }

    /// <summary>When set, sends wait until they are cancelled (the namespace hangs).</summary>
    public bool SendHangs { get; set; }

    /// <summary>Completed when a send starts, so a test can act while it is in flight.</summary>
    public TaskCompletionSource SendStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Dictionary<string, List<ServiceBusReceivedMessage>> DeadLetters { get; } = [];

    /// <summary>How long each peek takes on <see cref="Clock"/>.</summary>
    public TimeSpan PeekDelay { get; set; }

    public TimeProvider Clock { get; set; } = TimeProvider.System;

    private int _peeksStarted;

    public int PeeksStarted => Volatile.Read(ref _peeksStarted);

    private readonly SemaphoreSlim _peekStarted = new(0);

    /// <summary>Completes once <paramref name="count"/> peeks have started (each start releases one waiter).</summary>
    public async Task WhenPeeksStartedAsync(int count, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        while (PeeksStarted < count) await _peekStarted.WaitAsync(timeout.Token);
    }

    public List<ServiceBusReceiverOptions> ReceiverOptions { get; } = [];

    public List<(string Queue, List<ServiceBusMessage> Messages)> Batches { get; } = [];

    public List<(string Queue, ServiceBusMessage Message, DateTimeOffset At)> Scheduled { get; } = [];

    public IEnumerable<ServiceBusMessage> Sent(string queue) => Batches.Where(b => b.Queue == queue).SelectMany(b => b.Messages);

    public override ServiceBusSender CreateSender(string queueOrTopicName)
    {
        SendersCreated++;
        return _senders.TryGetValue(queueOrTopicName, out var sender)
            ? sender
            : _senders[queueOrTopicName] = new RecordingSender(this, queueOrTopicName);
    }

    public override ServiceBusReceiver CreateReceiver(string queueName, ServiceBusReceiverOptions options)
    {
        ReceiverOptions.Add(options);
        return new DeadLetterReceiver(this, queueName);
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>A dead letter as Service Bus hands it out: the reason is an application property.</summary>
    public static ServiceBusReceivedMessage DeadLetter(long sequenceNumber, string body, string? messageId, string? subject = null,
        string reason = "MaxDeliveryCountExceeded", int deliveryCount = 10, DateTimeOffset enqueuedTime = default) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(
            body: BinaryData.FromString(body), messageId: messageId, subject: subject, contentType: "application/json",
            properties: new Dictionary<string, object> { ["DeadLetterReason"] = reason },
            deliveryCount: deliveryCount, sequenceNumber: sequenceNumber, enqueuedTime: enqueuedTime);

    private async Task FailOrHangAsync(CancellationToken cancellationToken)
    {
        SendStarted.TrySetResult();
        if (SendFailure is { } failure) throw failure;
        if (SendHangs) await Task.Delay(Timeout.Infinite, cancellationToken);
    }

    private sealed class RecordingSender(RecordingServiceBus bus, string queue) : ServiceBusSender
    {
        private readonly Dictionary<ServiceBusMessageBatch, List<ServiceBusMessage>> _contents = new(ReferenceEqualityComparer.Instance);

        public override ValueTask<ServiceBusMessageBatch> CreateMessageBatchAsync(CancellationToken cancellationToken = default)
        {
            var contents = new List<ServiceBusMessage>();
            var bodyBytes = 0L;
            var batch = ServiceBusModelFactory.ServiceBusMessageBatch(0, contents,
                new CreateMessageBatchOptions { MaxSizeInBytes = bus.BatchBodyLimit }, message =>
                {
                    var size = message.Body.ToMemory().Length;
                    if (bodyBytes + size > bus.BatchBodyLimit) return false;
                    bodyBytes += size;
                    return true;
                });
            _contents[batch] = contents;
            return ValueTask.FromResult(batch);
        }

        public override async Task SendMessagesAsync(ServiceBusMessageBatch messageBatch, CancellationToken cancellationToken = default)
        {
            await bus.FailOrHangAsync(cancellationToken);
            var messages = _contents[messageBatch].ToList();
            bus.Batches.Add((queue, messages));
            bus.Log.AddRange(messages.Select(m => $"send {queue} {m.MessageId}"));
        }

        public override async Task<long> ScheduleMessageAsync(ServiceBusMessage message, DateTimeOffset scheduledEnqueueTime,
            CancellationToken cancellationToken = default)
        {
            await bus.FailOrHangAsync(cancellationToken);
            bus.Scheduled.Add((queue, message, scheduledEnqueueTime));
            bus.Log.Add($"schedule {queue} {message.MessageId}");
            return bus.Scheduled.Count;
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A receiver on a queue's dead-letter sub-queue; a received message stays locked until completed or abandoned.</summary>
    private sealed class DeadLetterReceiver(RecordingServiceBus bus, string queue) : ServiceBusReceiver
    {
        private readonly HashSet<long> _locked = [];

        private List<ServiceBusReceivedMessage> Store => bus.DeadLetters.TryGetValue(queue, out var list) ? list : [];

        public override async Task<IReadOnlyList<ServiceBusReceivedMessage>> PeekMessagesAsync(int maxMessages, long? fromSequenceNumber = null,
            CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref bus._peeksStarted);
            bus._peekStarted.Release();
            if (bus.PeekDelay > TimeSpan.Zero) await Task.Delay(bus.PeekDelay, bus.Clock, cancellationToken);
            return Store.Take(maxMessages).ToList();
        }

        public override Task<IReadOnlyList<ServiceBusReceivedMessage>> ReceiveMessagesAsync(int maxMessages, TimeSpan? maxWaitTime = null,
            CancellationToken cancellationToken = default)
        {
            var received = Store.Where(m => !_locked.Contains(m.SequenceNumber)).Take(maxMessages).ToList();
            foreach (var message in received) _locked.Add(message.SequenceNumber);
            return Task.FromResult<IReadOnlyList<ServiceBusReceivedMessage>>(received);
        }

        public override Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        {
            Assert.True(_locked.Remove(message.SequenceNumber), "completed a message this receiver does not hold");
            Store.RemoveAll(m => m.SequenceNumber == message.SequenceNumber);
            bus.Log.Add($"complete {queue} {message.SequenceNumber}");
            return Task.CompletedTask;
        }

        public override Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null,
            CancellationToken cancellationToken = default)
        {
            Assert.True(_locked.Remove(message.SequenceNumber), "abandoned a message this receiver does not hold");
            bus.Log.Add($"abandon {queue} {message.SequenceNumber}");
            return Task.CompletedTask;
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
