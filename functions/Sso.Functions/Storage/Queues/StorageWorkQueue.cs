using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using System.Collections.Concurrent;

namespace Sso.Functions.Storage.Queues;

/// <summary>Work queues on Azure Storage queues (Azurite locally).</summary>
public sealed class StorageWorkQueue : IWorkQueue
{
    private readonly QueueServiceClient _service;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, Lazy<Task<QueueClient>>> _queues = new();

    public StorageWorkQueue(StorageOptions options, TokenCredential? credential, AzureRetryOptions? retry = null)
    {
        _prefix = options.TablePrefix;
        var clientOptions = (retry ?? AzureRetryOptions.StorageDefault).Apply(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        clientOptions.AddPolicy(new RecreateMissingPolicy("QueueNotFound", message => RecreateMissingPolicy.QueueNameOf(message, _prefix),
            async (name, cancellationToken) => await _service!.GetQueueClient(name).CreateIfNotExistsAsync(cancellationToken: cancellationToken),
            (name, cancellationToken) => _service!.GetQueueClient(name).CreateIfNotExists(cancellationToken: cancellationToken)),
            HttpPipelinePosition.PerCall);
        _service = options.ConnectionString is { } connectionString
            ? new QueueServiceClient(connectionString, clientOptions)
            : new QueueServiceClient(options.QueueServiceUri
                ?? throw new InvalidOperationException("Set Storage:QueueServiceUri for Storage queues in Azure."), credential, clientOptions);
    }

    public bool SendsManyInOneRequest => false;

    public async Task SendAsync(string queueName, IReadOnlyList<WorkEnvelope> messages, CancellationToken cancellationToken)
    {
        var queue = await GetQueueAsync(queueName, cancellationToken);
        if (messages.Count == 1)
        {
            await queue.SendMessageAsync(messages[0].Write(), cancellationToken);
            return;
        }
        // A Storage queue has no batch send and keeps no order among messages anyway: a batch of
        // events goes out several at a time, not one round trip after another.
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = SendParallelism, CancellationToken = cancellationToken },
            async (message, token) => await queue.SendMessageAsync(message.Write(), token));
    }

    private const int SendParallelism = 8;

    public async Task SendLaterAsync(string queueName, WorkEnvelope message, TimeSpan delay, CancellationToken cancellationToken)
    {
        var queue = await GetQueueAsync(queueName, cancellationToken);
        await queue.SendMessageAsync(message.Write(), delay > TimeSpan.Zero ? delay : null, cancellationToken: cancellationToken);
    }

    public async Task<QueueClient> GetQueueAsync(string queueName, CancellationToken cancellationToken)
    {
        var lazy = _queues.GetOrAdd(queueName, name => new Lazy<Task<QueueClient>>(async () =>
        {
            var client = _service.GetQueueClient(FullName(name));
            await client.CreateIfNotExistsAsync();
            return client;
        }));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch when (lazy.Value.IsFaulted)
        {
            _queues.TryRemove(new KeyValuePair<string, Lazy<Task<QueueClient>>>(queueName, lazy));
            throw;
        }
    }

    /// <summary>Storage queue names are lower-case letters, digits and '-'.</summary>
    public string FullName(string queueName) => _prefix + "-" + queueName;
}
