using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// The <c>sso.login</c> event of every sign-in, success or failure. Its outbox row lives in the
/// "authorizationcodes" table in one of the client's partitions (<see cref="AuthorizationCodeStore.PartitionOf"/>): a success commits it in the same
/// transaction as the code it issued, a refusal commits it alone. After the commit it is handed
/// to the <see cref="OutboxPublisher"/> (feed and webhooks, off the request path);
/// <see cref="OutboxSweep"/> republishes what a crash left.
/// </summary>
public sealed class SignInEvents(TableStorage storage, TimeProvider clock, OutboxPublisher publisher)
{
    public const string LoginType = "sso.login";
    public const string OutboxTable = AuthorizationCodeStore.TableName;

    public EventRecord NewLogin(TenantId tenantId, ConnectionId connectionId, JsonObject data) =>
        new(EventRecord.NewId(clock.GetUtcNow()), LoginType, tenantId.Value, null, connectionId.Value, clock.GetUtcNow(), data);

    /// <summary>Commits an event that goes with no other change (a refused sign-in), then publishes it.</summary>
    public async Task RecordAsync(ClientId clientId, EventRecord login, CancellationToken cancellationToken)
    {
        var table = await storage.GetTableAsync(OutboxTable, cancellationToken);
        var partition = AuthorizationCodeStore.PartitionOf(clientId, AuthorizationCode.HashOf(login.Id));
        await table.AddEntityAsync(login.ToOutboxEntity(partition), cancellationToken);
        publisher.Post(OutboxTable, partition, [login]);
    }
}
