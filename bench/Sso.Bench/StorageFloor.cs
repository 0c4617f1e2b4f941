using System.Diagnostics;
using Azure;
using Azure.Data.Tables;

namespace Sso.Bench;

/// <summary>
/// The storage floor a request path is measured against: what the same Table Storage does, in
/// the same run, for the rows the path touches, with the same number of requests in flight.
/// A loaded machine slows the floor and the service alike, so a figure reported as a ratio of the
/// floor neither hides nor fakes a change (issue 14).
/// <list type="bullet">
/// <item>a 3-row transaction in the directory's own partition (what a SCIM write must commit at least);</item>
/// <item>a point read of an existing user row of that partition (what a userName lookup must read at least).</item>
/// </list>
/// Floor rows are written under the kind <c>benchFloor|</c>, which no store reads.
/// </summary>
public sealed class StorageFloor(TableClient table, string partitionKey, int parallel)
{
    private const string Kind = "benchFloor";

    public static StorageFloor For(string connectionString, string tableName, string partitionKey, int parallel) =>
        new(new TableServiceClient(connectionString).GetTableClient(tableName), partitionKey, parallel);

    /// <summary>Transactions of three ~600-byte rows per second, <paramref name="count"/> of them.</summary>
    public async Task<double> ThreeRowTransactionsPerSecondAsync(int count)
    {
        var payload = new string('x', 560);
        return await RateAsync(count, async _ =>
        {
            var id = Guid.NewGuid().ToString("N");
            await table.SubmitTransactionAsync(
            [
                new(TableTransactionActionType.Add, new TableEntity(partitionKey, $"{Kind}|{id}|a") { ["Payload"] = payload }),
                new(TableTransactionActionType.Add, new TableEntity(partitionKey, $"{Kind}|{id}|b") { ["Payload"] = id }),
                new(TableTransactionActionType.Add, new TableEntity(partitionKey, $"{Kind}|{id}|c") { ["Payload"] = id }),
            ]);
        });
    }

    /// <summary>Point reads per second of rows of the partition whose RowKey starts with <paramref name="rowKeyPrefix"/>.</summary>
    public async Task<double> PointReadsPerSecondAsync(string rowKeyPrefix, int count)
    {
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           $"PartitionKey eq '{partitionKey}' and RowKey ge '{rowKeyPrefix}' and RowKey lt '{rowKeyPrefix}~'",
                           select: ["RowKey"]))
            keys.Add(row.RowKey);
        if (keys.Count == 0) throw new InvalidOperationException($"No '{rowKeyPrefix}' rows in the partition to read.");
        return await RateAsync(count, async _ =>
        {
            var read = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, keys[Random.Shared.Next(keys.Count)]);
            if (!read.HasValue) throw new InvalidOperationException("A floor row vanished.");
        });
    }

    private async Task<double> RateAsync(int count, Func<int, Task> operation)
    {
        var next = -1;
        var failures = 0;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                try { await operation(i); }
                catch (RequestFailedException) { Interlocked.Increment(ref failures); }
            }
        }));
        total.Stop();
        if (failures > 0) Console.Error.WriteLine($"  storage floor: {failures} of {count} operations failed");
        return count / total.Elapsed.TotalSeconds;
    }
}
