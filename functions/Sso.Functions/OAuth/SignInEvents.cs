using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Outbox;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// The <c>sso.login</c> event of every sign-in, success or failure. Its outbox row lives in the
/// "authorizationcodes" table under the client's partition: a success commits it in the same
/// transaction as the code it issued, a refusal commits it alone. Right after the commit it is
/// published to the feed (and webhooks); <see cref="OutboxSweep"/> republishes what a crash left.
/// </summary>
public sealed class SignInEvents(TableStorage storage, TimeProvider clock, EventFeedStore feed)
{
    public const string LoginType = "sso.login";
    public const string OutboxTable = AuthorizationCodeStore.TableName;

    public EventRecord NewLogin(TenantId tenantId, ConnectionId connectionId, JsonObject data) =>
        new(EventRecord.NewId(clock.GetUtcNow()), LoginType, tenantId.Value, null, connectionId.Value, clock.GetUtcNow(), data);

    /// <summary>Commits an event that goes with no other change (a refused sign-in), then publishes it.</summary>
    public async Task RecordAsync(ClientId clientId, EventRecord login, CancellationToken cancellationToken)
    {
        var table = await storage.GetTableAsync(OutboxTable, cancellationToken);
        await table.AddEntityAsync(login.ToOutboxEntity(clientId.Value), cancellationToken);
        await PublishAsync(clientId, login, cancellationToken);
    }

    /// <summary>Publishes an event whose outbox row is committed.</summary>
    public async Task PublishAsync(ClientId clientId, EventRecord login, CancellationToken cancellationToken)
    {
        var table = await storage.GetTableAsync(OutboxTable, cancellationToken);
        await feed.PublishAsync(table, clientId.Value, [login], cancellationToken);
    }
}
