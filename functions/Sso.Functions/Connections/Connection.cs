using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Connections;

public readonly record struct ConnectionId(string Value)
{
    public const string Prefix = "con_";

    public static ConnectionId New() => new(Ids.New(Prefix));

    public static bool TryParse(string? value, out ConnectionId id)
    {
        id = new ConnectionId(value ?? "");
        return Ids.HasShape(value, Prefix);
    }

    public override string ToString() => Value;
}

public static class ConnectionDisabledReasons
{
    /// <summary>The setup link that created it was revoked before an admin confirmed the connection.</summary>
    public const string SetupLinkRevoked = "setup_link_revoked";
}

public static class ConnectionTypes
{
    public const string Saml = "saml";
    public const string Oidc = "oidc";
}

/// <summary>
/// One IdP connection of a tenant. <see cref="Config"/> is the type-specific configuration
/// (SAML: IdP entity ID, SSO URL, certificates, ...; OIDC: issuer, client id, ...), stored as
/// JSON in the row. It never holds a secret or a private key: those live in the secret store,
/// named by the connection id.
/// </summary>
public sealed record Connection(
    ConnectionId Id,
    TenantId TenantId,
    string Type,
    string? Name,
    JsonObject Config,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    ETag ETag = default)
{
    public const string Kind = "connection";

    /// <summary>A string property in Table Storage holds at most 32 K UTF-16 characters.</summary>
    public const int MaxConfigChars = 30_000;

    public string RowKey => TableKey.Row(Kind, Id.Value);

    /// <summary>The setup link whose holder created the connection; null when an admin key did.</summary>
    public string? SetupLinkId { get; init; }

    /// <summary>When an admin confirmed a connection that a setup link created.</summary>
    public DateTimeOffset? ConfirmedAt { get; init; }

    /// <summary>When the connection stopped signing anyone in, and why (<see cref="ConnectionDisabledReasons"/>).</summary>
    public DateTimeOffset? DisabledAt { get; init; }

    public string? DisabledReason { get; init; }

    public bool Enabled => DisabledAt is null;

    /// <summary>Created through a setup link and not yet confirmed by an admin: revoking the link disables it.</summary>
    public bool AwaitsConfirmation => SetupLinkId is not null && ConfirmedAt is null;

    public TableEntity ToEntity() => new(TenantId.Value, RowKey)
    {
        ["ConnectionId"] = Id.Value,
        ["Type"] = Type,
        ["Name"] = Name,
        ["Config"] = Config.ToJsonString(),
        ["CreatedAt"] = CreatedAt,
        ["UpdatedAt"] = UpdatedAt,
        ["SetupLinkId"] = SetupLinkId,
        ["ConfirmedAt"] = ConfirmedAt,
        ["DisabledAt"] = DisabledAt,
        ["DisabledReason"] = DisabledReason,
    };

    public static Connection FromEntity(TableEntity entity) => new(
        new ConnectionId(entity.GetString("ConnectionId")),
        new TenantId(entity.PartitionKey),
        entity.GetString("Type"),
        entity.GetString("Name"),
        JsonNode.Parse(entity.GetString("Config") ?? "{}") as JsonObject ?? new JsonObject(),
        entity.GetDateTimeOffset("CreatedAt") ?? default,
        entity.GetDateTimeOffset("UpdatedAt") ?? default,
        entity.ETag)
    {
        SetupLinkId = entity.GetString("SetupLinkId"),
        ConfirmedAt = entity.GetDateTimeOffset("ConfirmedAt"),
        DisabledAt = entity.GetDateTimeOffset("DisabledAt"),
        DisabledReason = entity.GetString("DisabledReason"),
    };

    public bool FitsInRow => Config.ToJsonString().Length <= MaxConfigChars;

    public string? ConfigString(string name) =>
        Config[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public bool ConfigBool(string name) =>
        Config[name] is JsonValue value && value.TryGetValue<bool>(out var flag) && flag;

    /// <summary>The IdP signing certificates of a SAML connection (stored as base64 DER); none for OIDC. The caller disposes them.</summary>
    public IReadOnlyList<X509Certificate2> IdpCertificates() =>
        Config["idpCertificates"] is JsonArray array
            ? array.OfType<JsonValue>().Select(v => X509CertificateLoader.LoadCertificate(Convert.FromBase64String(v.GetValue<string>())))
                .ToList()
            : [];

    // Config values are IdP settings, not people; still, keep records out of logs by default.
    public override string ToString() => $"Connection {{ Id = {Id}, TenantId = {TenantId}, Type = {Type} }}";
}
