using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Connections;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// What <c>/oauth/authorize</c> accepted, kept server-side while the browser is at the IdP.
/// <see cref="Handle"/> is the SAML RelayState and the OIDC <c>state</c> sent to the IdP: an
/// opaque value of at most 80 bytes (SAML bindings §3.4.3) that starts with the connection id,
/// so the ACS can tell a RelayState of another connection without a lookup.
/// </summary>
public sealed record PendingSignIn
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public required string Handle { get; init; }
    public required ClientId ClientId { get; init; }

    /// <summary>Exactly as sent to /oauth/authorize, already matched against the client's registered URIs.</summary>
    public required string RedirectUri { get; init; }

    /// <summary>The client's <c>state</c>, echoed unchanged on every redirect back, errors included.</summary>
    public string? State { get; init; }

    public string? Nonce { get; init; }
    public string? CodeChallenge { get; init; }
    public string? CodeChallengeMethod { get; init; }
    public string Scope { get; init; } = "openid";

    /// <summary><c>query</c> or <c>form_post</c>.</summary>
    public string ResponseMode { get; init; } = ResponseModes.Query;

    /// <summary>The client's <c>prompt=login</c> / <c>max_age</c>: sent on to the IdP, and the IdP's authentication instant is checked against it.</summary>
    public StepUpDemand StepUp { get; init; } = StepUpDemand.None;

    public required TenantId TenantId { get; init; }
    public required ConnectionId ConnectionId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>
    /// What the IdP leg needs to check the answer: SAML keeps <c>authnRequestId</c> here; OIDC
    /// keeps its own nonce, PKCE verifier and so on. Stored with the sign-in, never sent anywhere.
    /// </summary>
    public JsonObject IdpState { get; init; } = new();

    public ETag ETag { get; init; }

    /// <summary>
    /// Where the row was read: a SAML sign-in's pending row lives in its connection's partition of
    /// "signins" (<see cref="ConnectionSignInStore"/>), any other in its own partition of "pendingsignins".
    /// </summary>
    public bool InConnectionPartition { get; init; }

    public const string RowKey = "pending";

    /// <summary>A new handle for a sign-in through <paramref name="connectionId"/>: <c>con_….</c> plus 128 random bits (63 bytes).</summary>
    public static string NewHandle(ConnectionId connectionId) =>
        connectionId.Value + "." + Base64Url.Encode(RandomNumberGenerator.GetBytes(24));

    /// <summary>The connection a handle was issued for, read from its shape alone.</summary>
    public static bool TryReadConnection(string? handle, out ConnectionId connectionId)
    {
        connectionId = default;
        if (handle is not { Length: > 0 and <= 80 }) return false;
        var dot = handle.IndexOf('.');
        if (dot < 0 || handle.Length - dot - 1 != 32) return false;
        if (!ConnectionId.TryParse(handle[..dot], out connectionId)) return false;
        foreach (var c in handle.AsSpan(dot + 1))
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        return true;
    }

    public string? IdpString(string name) =>
        IdpState[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public TableEntity ToEntity() => ToEntity(Handle, RowKey);

    /// <summary>The row under other keys (a SAML sign-in's pending row lives in its connection's partition, <see cref="ConnectionSignInStore"/>).</summary>
    public TableEntity ToEntity(string partitionKey, string rowKey) => new(partitionKey, rowKey)
    {
        ["ClientId"] = ClientId.Value,
        ["RedirectUri"] = RedirectUri,
        ["State"] = State,
        ["Nonce"] = Nonce,
        ["CodeChallenge"] = CodeChallenge,
        ["CodeChallengeMethod"] = CodeChallengeMethod,
        ["Scope"] = Scope,
        ["ResponseMode"] = ResponseMode,
        ["TenantId"] = TenantId.Value,
        ["ConnectionId"] = ConnectionId.Value,
        ["CreatedAt"] = CreatedAt,
        ["ExpiresAt"] = ExpiresAt,
        ["IdpState"] = IdpState.ToJsonString(),
        ["ForceLogin"] = StepUp.ForceLogin ? true : null,
        ["MaxAge"] = StepUp.MaxAgeSeconds,
    };

    public static PendingSignIn FromEntity(TableEntity entity) => FromEntity(entity, entity.PartitionKey);

    public static PendingSignIn FromEntity(TableEntity entity, string handle) => new()
    {
        Handle = handle,
        InConnectionPartition = entity.PartitionKey != handle,
        ClientId = new ClientId(entity.GetString("ClientId")),
        RedirectUri = entity.GetString("RedirectUri"),
        State = entity.GetString("State"),
        Nonce = entity.GetString("Nonce"),
        CodeChallenge = entity.GetString("CodeChallenge"),
        CodeChallengeMethod = entity.GetString("CodeChallengeMethod"),
        Scope = entity.GetString("Scope") ?? "openid",
        ResponseMode = entity.GetString("ResponseMode") ?? ResponseModes.Query,
        TenantId = new TenantId(entity.GetString("TenantId")),
        ConnectionId = new ConnectionId(entity.GetString("ConnectionId")),
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? default,
        ExpiresAt = entity.GetDateTimeOffset("ExpiresAt") ?? default,
        IdpState = JsonNode.Parse(entity.GetString("IdpState") ?? "{}") as JsonObject ?? new JsonObject(),
        StepUp = new StepUpDemand(entity.GetBoolean("ForceLogin") == true, entity.GetInt32("MaxAge")),
        ETag = entity.ETag,
    };

    // State, nonce and the handle are bearer-ish values; keep them out of logs that print records.
    public override string ToString() => $"PendingSignIn {{ ClientId = {ClientId}, ConnectionId = {ConnectionId} }}";
}

public static class ResponseModes
{
    public const string Query = "query";
    public const string FormPost = "form_post";
}

