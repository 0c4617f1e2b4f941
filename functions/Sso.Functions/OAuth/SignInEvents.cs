using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// Writes the <c>sso.login</c> event of every sign-in, success or failure, into the event feed
/// (table "events", partitions "all" and the tenant id, RowKey a time-ordered <c>evt_…</c> id),
/// in the row shape the feed reader expects. A sign-in changes no tenant state, so there is no
/// outbox transaction to join: the event is written straight to the feed.
/// </summary>
public sealed class SignInEvents(TableStorage storage, TimeProvider clock)
{
    public const string LoginType = "sso.login";
    private static long _sequence;

    public async Task RecordAsync(TenantId tenantId, string connectionId, JsonObject data, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var sequence = Interlocked.Increment(ref _sequence) % 10_000_000_000L;
        var id = "evt_" + now.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)
                 + sequence.ToString("D10", CultureInfo.InvariantCulture) + Ids.New("")[..6];
        var table = await storage.GetTableAsync("events", cancellationToken);
        foreach (var partition in new[] { "all", tenantId.Value })
        {
            await table.UpsertEntityAsync(new TableEntity(partition, id)
            {
                ["EventId"] = id,
                ["Type"] = LoginType,
                ["TenantId"] = tenantId.Value,
                ["DirectoryId"] = null,
                ["ConnectionId"] = connectionId,
                ["OccurredAt"] = now,
                ["Data"] = data.ToJsonString(),
            }, TableUpdateMode.Replace, cancellationToken);
        }
    }
}
