using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Storage;

namespace Sso.Functions.OAuth;

/// <summary>
/// What the IdP said about a SAML sign-in session, kept for Single Logout: the NameID and
/// SessionIndex go into our LogoutRequest, and the IdP's LogoutRequest names them.
/// </summary>
public sealed record SamlSession
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public required string SessionId { get; init; }
    public required ConnectionId ConnectionId { get; init; }
    public required string Subject { get; init; }
    public string? DirectoryUserId { get; init; }
    public required string NameId { get; init; }
    public string? NameIdFormat { get; init; }
    public string? SessionIndex { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }

    // NameID is personal data.
    public override string ToString() => $"SamlSession {{ ConnectionId = {ConnectionId} }}";
}

/// <summary>An SP-initiated logout waiting for the IdP's LogoutResponse; RelayState is its handle.</summary>
public sealed record PendingLogout
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public required string Handle { get; init; }
    public required ConnectionId ConnectionId { get; init; }
    public required string LogoutRequestId { get; init; }
    public ClientId? ClientId { get; init; }
    public string? PostLogoutRedirectUri { get; init; }
    public string? State { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public ETag ETag { get; init; }

    public override string ToString() => $"PendingLogout {{ ConnectionId = {ConnectionId} }}";
}

/// <summary>
/// Sign-in sessions of SAML connections and pending logouts. A session is two rows:
/// <c>session|&lt;sid&gt;</c> (found from the id_token_hint's <c>sid</c>) and
/// <c>samlname|&lt;connection&gt;|&lt;sha256(NameID)&gt;|&lt;sid&gt;</c> (found from the IdP's LogoutRequest).
/// The ACS commits them with the rest of its sign-in in the connection's partition of table "signins"
/// (<see cref="ConnectionSignInStore"/>); sessions recorded before that layout (and pending logouts)
/// are in table "signinsessions", PartitionKey = tenant id, and lookups read both until those expire.
/// </summary>
public sealed class SignInSessionStore(TableStorage storage, ConnectionStore connections)
{
    public const string TableName = TableNames.SignInSessions;

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => storage.GetTableAsync(TableName, cancellationToken);

    public async Task RecordAsync(TenantId tenantId, SamlSession session, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, ToEntity(tenantId, SessionKey(session.SessionId), session)),
            new(TableTransactionActionType.Add, ToEntity(tenantId, NamePrefix(session.ConnectionId, session.NameId) + session.SessionId, session)),
        ], cancellationToken);
    }

    /// <summary>The two rows of a session in <paramref name="partitionKey"/>, for a caller's transaction.</summary>
    public static IEnumerable<TableEntity> ToEntities(string partitionKey, SamlSession session) =>
    [
        ToEntity(partitionKey, SessionKey(session.SessionId), session),
        ToEntity(partitionKey, NamePrefix(session.ConnectionId, session.NameId) + session.SessionId, session),
    ];

    private static TableEntity ToEntity(TenantId tenantId, string rowKey, SamlSession session) => ToEntity(tenantId.Value, rowKey, session);

    private static TableEntity ToEntity(string partitionKey, string rowKey, SamlSession session) => new(partitionKey, rowKey)
    {
        ["ConnectionId"] = session.ConnectionId.Value,
        ["Subject"] = session.Subject,
        ["DirectoryUserId"] = session.DirectoryUserId,
        ["NameId"] = session.NameId,
        ["NameIdFormat"] = session.NameIdFormat,
        ["SessionIndex"] = session.SessionIndex,
        ["CreatedAt"] = session.CreatedAt,
        ["ExpiresAt"] = session.ExpiresAt,
    };

    public async Task<SamlSession?> FindAsync(TenantId tenantId, string sessionId, CancellationToken cancellationToken)
    {
        // The sid names no connection: its row is in a partition of one of the tenant's SAML connections (or, older, the tenant's).
        var signIns = await storage.GetTableAsync(ConnectionSignInStore.TableName, cancellationToken);
        var legacy = await TableAsync(cancellationToken);
        var key = TableKey.Quote(SessionKey(sessionId));
        var reads = (await connections.ListAsync(tenantId, cancellationToken))
            .Where(c => c.Type == ConnectionTypes.Saml)
            .Select(c => FirstAsync(signIns, $"{ConnectionSignInStore.PartitionsFilter(c.Id)} and RowKey eq '{key}'"))
            .Append(FirstAsync(legacy, $"PartitionKey eq '{TableKey.Quote(tenantId.Value)}' and RowKey eq '{key}'"))
            .ToList();
        await Task.WhenAll(reads);
        return reads.Select(r => r.Result).FirstOrDefault(r => r is not null) is { } row ? FromEntity(sessionId, row) : null;

        async Task<TableEntity?> FirstAsync(TableClient table, string filter)
        {
            await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) return row;
            return null;
        }
    }

    /// <summary>Every live session that <paramref name="nameId"/> signed in with through this connection.</summary>
    public async Task<IReadOnlyList<SamlSession>> FindByNameIdAsync(TenantId tenantId, ConnectionId connectionId, string nameId,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var prefix = NamePrefix(connectionId, nameId);
        var range = $"RowKey ge '{prefix}' and RowKey lt '{prefix[..^1]}}}'";
        var found = await Task.WhenAll(
            QueryAsync(await storage.GetTableAsync(ConnectionSignInStore.TableName, cancellationToken),
                $"{ConnectionSignInStore.PartitionsFilter(connectionId)} and {range}"),
            QueryAsync(await TableAsync(cancellationToken), $"PartitionKey eq '{TableKey.Quote(tenantId.Value)}' and {range}"));
        return found.SelectMany(f => f).ToList();

        async Task<List<SamlSession>> QueryAsync(TableClient table, string filter)
        {
            var sessions = new List<SamlSession>();
            await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                var session = FromEntity(row.RowKey[prefix.Length..], row);
                // The IdP says who; the row must agree, not just share a hash.
                if (session.NameId == nameId && session.ExpiresAt > now) sessions.Add(session);
            }
            return sessions;
        }
    }

    public async Task CreateLogoutAsync(TenantId tenantId, PendingLogout logout, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        await table.AddEntityAsync(new TableEntity(tenantId.Value, TableKey.Row("logout", logout.Handle))
        {
            ["ConnectionId"] = logout.ConnectionId.Value,
            ["LogoutRequestId"] = logout.LogoutRequestId,
            ["ClientId"] = logout.ClientId?.Value,
            ["PostLogoutRedirectUri"] = logout.PostLogoutRedirectUri,
            ["State"] = logout.State,
            ["ExpiresAt"] = logout.ExpiresAt,
        }, cancellationToken);
    }

    /// <summary>The pending logout a RelayState names, if it is still live (not removed: the caller checks the answer first).</summary>
    public async Task<PendingLogout?> FindLogoutAsync(TenantId tenantId, string handle, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!PendingSignIn.TryReadConnection(handle, out _)) return null;
        var table = await TableAsync(cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(tenantId.Value, TableKey.Row("logout", handle), cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var entity = row.Value!;
        var logout = new PendingLogout
        {
            Handle = handle,
            ConnectionId = new ConnectionId(entity.GetString("ConnectionId")),
            LogoutRequestId = entity.GetString("LogoutRequestId"),
            ClientId = entity.GetString("ClientId") is { } clientId ? new ClientId(clientId) : null,
            PostLogoutRedirectUri = entity.GetString("PostLogoutRedirectUri"),
            State = entity.GetString("State"),
            ExpiresAt = entity.GetDateTimeOffset("ExpiresAt") ?? default,
            ETag = entity.ETag,
        };
        return now < logout.ExpiresAt ? logout : null;
    }

    /// <summary>Removes the pending logout under its ETag: of two answers with one RelayState, one wins.</summary>
    public async Task<bool> RemoveLogoutAsync(TenantId tenantId, PendingLogout logout, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken);
        return await table.DeleteIfMatchAsync(tenantId.Value, TableKey.Row("logout", logout.Handle), logout.ETag, cancellationToken)
            == SaveOutcome.Saved;
    }

    private static string SessionKey(string sessionId) => TableKey.Row("session", sessionId);

    private static string NamePrefix(ConnectionId connectionId, string nameId) =>
        "samlname|" + connectionId.Value + "|" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(nameId))) + "|";

    private static SamlSession FromEntity(string sessionId, TableEntity entity) => new()
    {
        SessionId = sessionId,
        ConnectionId = new ConnectionId(entity.GetString("ConnectionId")),
        Subject = entity.GetString("Subject"),
        DirectoryUserId = entity.GetString("DirectoryUserId"),
        NameId = entity.GetString("NameId"),
        NameIdFormat = entity.GetString("NameIdFormat"),
        SessionIndex = entity.GetString("SessionIndex"),
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? default,
        ExpiresAt = entity.GetDateTimeOffset("ExpiresAt") ?? default,
    };
}
