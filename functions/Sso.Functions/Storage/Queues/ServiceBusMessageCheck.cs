using System.Text.Json;
using Azure.Messaging.ServiceBus;

namespace Sso.Functions.Storage.Queues;

/// <summary>
/// <c>Sso.Functions --check-service-bus-messages</c>: builds work messages, a message batch and a
/// dead letter with the Service Bus SDK, without a network, and writes what they hold as JSON.
/// The deploy smoke test runs it inside the Native AOT binary, where trimming would show up as
/// a missing property or a crash, and compares the result with the JIT build's.
/// </summary>
public static class ServiceBusMessageCheck
{
    public const string Argument = "--check-service-bus-messages";

    public static int Run(Stream output)
    {
        WorkEnvelope[] envelopes =
        [
            new("evt_check.revoke", "user.revoke", """{"userId":"usr_check"}"""),
            new("evt_check.memberships", "user.memberships", """{"userId":"usr_check","groups":["grp_1"]}"""),
            new("evt_check.large", "user.revoke", "\"" + new string('x', 900) + "\""),
        ];
        // The model factory's batch calls back for each message; this one holds up to 1 KiB of body.
        var accepted = new List<ServiceBusMessage>();
        var bodyBytes = 0L;
        using var batch = ServiceBusModelFactory.ServiceBusMessageBatch(0, accepted, new CreateMessageBatchOptions { MaxSizeInBytes = 1024 }, message =>
        {
            if (bodyBytes + message.Body.ToMemory().Length > 1024) return false;
            bodyBytes += message.Body.ToMemory().Length;
            return true;
        });
        // The third does not fit beside the first two: the batch must refuse it and keep the others.
        var added = envelopes.Select(e => batch.TryAddMessage(ServiceBusWorkQueue.ToMessage(e))).ToArray();

        var received = ServiceBusModelFactory.ServiceBusReceivedMessage(
            body: BinaryData.FromString(envelopes[0].Write()), messageId: envelopes[0].MessageId, subject: envelopes[0].Kind,
            contentType: ServiceBusWorkQueue.ContentType, deliveryCount: 10, sequenceNumber: 42,
            enqueuedTime: new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero),
            properties: new Dictionary<string, object> { ["DeadLetterReason"] = "MaxDeliveryCountExceeded" });
        var deadLetter = ServiceBusDeadLetterQueue.ToDeadLetter("deprovision", received);

        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartArray("messages");
        foreach (var envelope in envelopes) WriteMessage(json, ServiceBusWorkQueue.ToMessage(envelope));
        json.WriteEndArray();
        json.WriteStartObject("batch");
        json.WriteNumber("count", batch.Count);
        json.WriteNumber("maxSizeInBytes", batch.MaxSizeInBytes);
        json.WriteStartArray("added");
        foreach (var ok in added) json.WriteBooleanValue(ok);
        json.WriteEndArray();
        json.WriteStartArray("messageIds");
        foreach (var message in accepted) json.WriteStringValue(message.MessageId);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteStartObject("deadLetter");
        json.WriteString("id", deadLetter.Id);
        json.WriteString("messageId", deadLetter.MessageId);
        json.WriteString("kind", deadLetter.Kind);
        json.WriteString("reason", deadLetter.Reason);
        json.WriteNumber("deliveryCount", deadLetter.DeliveryCount ?? -1);
        json.WriteString("enqueuedAt", deadLetter.EnqueuedAt ?? default);
        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        return 0;
    }

    private static void WriteMessage(Utf8JsonWriter json, ServiceBusMessage message)
    {
        json.WriteStartObject();
        json.WriteString("messageId", message.MessageId);
        json.WriteString("subject", message.Subject);
        json.WriteString("contentType", message.ContentType);
        json.WriteNumber("applicationProperties", message.ApplicationProperties.Count);
        json.WriteString("body", message.Body.ToString());
        json.WriteEndObject();
    }
}
