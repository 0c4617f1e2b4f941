using System.Collections.Concurrent;
using Azure.Core;
using Azure.Data.Tables;

namespace Sso.Functions.Storage;

/// <summary>
/// Plumbing for the feature stores: hands out table clients (creating each table once per
/// process) and answers whether Table Storage is reachable.
/// </summary>
public sealed class TableStorage
{
    private readonly TableServiceClient _service;
    private readonly TableServiceClient _probe;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, Lazy<Task<TableClient>>> _tables = new();

    public TableStorage(StorageOptions options, TokenCredential? credential, AzureRetryOptions? retry = null)
    {
        _prefix = options.TablePrefix;
        var serviceOptions = (retry ?? AzureRetryOptions.StorageDefault).Apply(new TableClientOptions());
        if (options.RecreateMissingTables)
            serviceOptions.AddPolicy(new RecreateMissingPolicy("TableNotFound", message => RecreateMissingPolicy.TableNameOf(message, _prefix),
                async (name, cancellationToken) => await _service!.CreateTableIfNotExistsAsync(name, cancellationToken),
                (name, cancellationToken) => _service!.CreateTableIfNotExists(name, cancellationToken)), HttpPipelinePosition.PerCall);
        _service = Create(options, credential, serviceOptions);
        var probeOptions = new TableClientOptions();
        probeOptions.Retry.MaxRetries = 0;
        probeOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(3);
        _probe = Create(options, credential, probeOptions);
    }

    private static TableServiceClient Create(StorageOptions options, TokenCredential? credential, TableClientOptions clientOptions)
    {
        if (options.ConnectionString is { } connectionString)
            return new TableServiceClient(connectionString, clientOptions);
        if (options.TableServiceUri is { } uri && credential is not null)
            return new TableServiceClient(uri, credential, clientOptions);
        throw new InvalidOperationException("Set Storage:ConnectionString (local) or Storage:TableServiceUri (Azure, managed identity).");
    }

    public string FullName(string table) => _prefix + table;

    public async Task<TableClient> GetTableAsync(string table, CancellationToken cancellationToken)
    {
        var lazy = _tables.GetOrAdd(table, name => new Lazy<Task<TableClient>>(() => CreateTableAsync(name)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch when (lazy.Value.IsFaulted)
        {
            // Storage was down when the table was first needed; let the next call try again.
            _tables.TryRemove(new KeyValuePair<string, Lazy<Task<TableClient>>>(table, lazy));
            throw;
        }
    }

    private async Task<TableClient> CreateTableAsync(string table)
    {
        var client = _service.GetTableClient(FullName(table));
        await client.CreateIfNotExistsAsync();
        return client;
    }

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var _ in _probe.QueryAsync(t => t.Name == FullName(TableNames.Tenants), maxPerPage: 1, cancellationToken))
                break;
            return true;
        }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or IOException or TimeoutException
                                       or TaskCanceledException)
        {
            return false;
        }
    }
}
