using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Core;

namespace Sso.Functions.Storage.Queues;

/// <summary>
/// Sends to Azure Service Bus queues over its REST API (no Service Bus SDK can be restored for
/// this project) with an Entra token for the managed identity. One message goes as a plain
/// POST with BrokerProperties; several go as one batch request.
/// </summary>
public sealed class ServiceBusWorkQueue(HttpClient http, Uri namespaceUri, TokenCredential credential) : IWorkQueue
{
    public const string Scope = "https://servicebus.azure.net/.default";
    public const string BatchContentType = "application/vnd.microsoft.servicebus.json";

    // Service Bus Standard caps a message (and a batch) at 256 KiB; stay well below it.
    private const int MaxBatchBytes = 192 * 1024;
    private const int MaxBatchCount = 100;

    public async Task SendAsync(string queueName, IReadOnlyList<WorkEnvelope> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0) return;
        var token = await credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken);
        var endpoint = new Uri(namespaceUri, Uri.EscapeDataString(queueName) + "/messages");
        if (messages.Count == 1)
        {
            await PostAsync(BuildSingle(endpoint, messages[0], token.Token), cancellationToken);
            return;
        }
        foreach (var batch in Batches(messages))
            await PostAsync(BuildBatch(endpoint, batch, token.Token), cancellationToken);
    }

    public async Task SendLaterAsync(string queueName, WorkEnvelope message, TimeSpan delay, CancellationToken cancellationToken)
    {
        var token = await credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken);
        var endpoint = new Uri(namespaceUri, Uri.EscapeDataString(queueName) + "/messages");
        var scheduled = delay > TimeSpan.Zero ? DateTimeOffset.UtcNow + delay : (DateTimeOffset?)null;
        await PostAsync(BuildSingle(endpoint, message, token.Token, scheduled), cancellationToken);
    }

    public static HttpRequestMessage BuildSingle(Uri endpoint, WorkEnvelope message, string accessToken,
        DateTimeOffset? scheduledEnqueueTime = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent(message.Write(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.TryAddWithoutValidation("BrokerProperties",
            JsonSerializer.Serialize(new ServiceBusBrokerProperties(message.MessageId,
                scheduledEnqueueTime?.UtcDateTime.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
                QueueJsonContext.Default.ServiceBusBrokerProperties));
        return request;
    }

    public static HttpRequestMessage BuildBatch(Uri endpoint, IReadOnlyList<WorkEnvelope> messages, string accessToken)
    {
        var body = messages.Select(m => new ServiceBusBatchMessage(m.Write(), new ServiceBusBrokerProperties(m.MessageId))).ToList();
        var content = new StringContent(JsonSerializer.Serialize(body, QueueJsonContext.Default.ListServiceBusBatchMessage), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(BatchContentType) { CharSet = "utf-8" };
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return request;
    }

    private static IEnumerable<IReadOnlyList<WorkEnvelope>> Batches(IReadOnlyList<WorkEnvelope> messages)
    {
        var batch = new List<WorkEnvelope>();
        var bytes = 0;
        foreach (var message in messages)
        {
            var size = Encoding.UTF8.GetByteCount(message.Write()) + 128;
            if (batch.Count > 0 && (batch.Count == MaxBatchCount || bytes + size > MaxBatchBytes))
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }
            batch.Add(message);
            bytes += size;
        }
        if (batch.Count > 0) yield return batch;
    }

    private async Task PostAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        using (var response = await http.SendAsync(request, cancellationToken))
        {
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException(
                    $"Service Bus refused the send to {request.RequestUri!.AbsolutePath}: {(int)response.StatusCode} {response.ReasonPhrase}",
                    null, response.StatusCode);
        }
    }
}

/// <summary>The BrokerProperties header and batch member, in Service Bus' own PascalCase.</summary>
public sealed record ServiceBusBrokerProperties(
    [property: System.Text.Json.Serialization.JsonPropertyName("MessageId")] string MessageId,
    [property: System.Text.Json.Serialization.JsonPropertyName("ScheduledEnqueueTimeUtc"),
               System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? ScheduledEnqueueTimeUtc = null);

public sealed record ServiceBusBatchMessage(
    [property: System.Text.Json.Serialization.JsonPropertyName("Body")] string Body,
    [property: System.Text.Json.Serialization.JsonPropertyName("BrokerProperties")] ServiceBusBrokerProperties BrokerProperties);
