using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sso.Functions.Outbox;

namespace Sso.Functions.Connections;

/// <summary>
/// The events of a connection's life: created, updated, deleted (committed with the change, in the
/// connection's partition), and <c>connection.trust_changed</c> when a metadata refresh replaced the
/// IdP's entity ID, SSO URL or signing certificates. Bodies hold ids, names and thumbprints; never
/// a secret.
/// </summary>
public static class ConnectionEvents
{
    public const string Created = "connection.created";
    public const string Updated = "connection.updated";
    public const string Deleted = "connection.deleted";
    public const string TrustChanged = "connection.trust_changed";

    /// <summary>The configuration members that decide whom the service trusts for this connection.</summary>
    public static readonly IReadOnlyList<string> TrustFields = ["idpEntityId", "idpSsoUrl", "idpCertificates"];

    // Bookkeeping of the metadata fetch, not a change anybody made.
    private static readonly HashSet<string> Bookkeeping = ["metadataCheckedAt", "metadataFetchedAt", "metadataRefreshError"];

    public static EventRecord New(Connection connection, string type, DateTimeOffset now, JsonObject data) =>
        new(EventRecord.NewId(now), type, connection.TenantId.Value, null, connection.Id.Value, now, data);

    public static JsonObject Data(Connection connection) => new()
    {
        ["id"] = connection.Id.Value,
        ["type"] = connection.Type,
        ["name"] = connection.Name,
        ["domains"] = ConnectionDomains.Listed(connection) is { } listed ? new JsonArray(listed.Select(d => (JsonNode?)d).ToArray()) : null,
        ["enabled"] = connection.Enabled,
        ["disabledReason"] = connection.DisabledReason,
        ["setupLinkId"] = connection.SetupLinkId,
        ["confirmed"] = !connection.AwaitsConfirmation,
    };

    public static EventRecord CreatedEvent(Connection connection, DateTimeOffset now) => New(connection, Created, now, Data(connection));

    public static EventRecord DeletedEvent(Connection connection, DateTimeOffset now) => New(connection, Deleted, now, Data(connection));

    /// <summary><c>connection.updated</c> with <c>changedFields</c> (names only), or null when nothing an admin sees changed.</summary>
    public static EventRecord? UpdatedEvent(Connection before, Connection after, DateTimeOffset now)
    {
        var changed = ChangedFields(before, after);
        if (changed.Count == 0) return null;
        var data = Data(after);
        data["changedFields"] = new JsonArray(changed.Select(f => (JsonNode?)f).ToArray());
        return New(after, Updated, now, data);
    }

    public static List<string> ChangedFields(Connection before, Connection after)
    {
        var changed = new List<string>();
        if (before.Name != after.Name) changed.Add("name");
        foreach (var name in before.Config.Select(m => m.Key).Union(after.Config.Select(m => m.Key)).Order(StringComparer.Ordinal))
            if (!Bookkeeping.Contains(name) && !JsonNode.DeepEquals(before.Config[name], after.Config[name])) changed.Add(name);
        if (before.Enabled != after.Enabled) changed.Add("enabled");
        if (before.AwaitsConfirmation != after.AwaitsConfirmation) changed.Add("confirmed");
        return changed;
    }

    /// <summary>
    /// <c>connection.trust_changed</c> when a refresh replaced any of <see cref="TrustFields"/>, with
    /// the old and new certificate thumbprints (SHA-256, upper-case hex); null when none changed.
    /// </summary>
    public static EventRecord? TrustChangedEvent(Connection before, Connection after, DateTimeOffset now)
    {
        var changed = TrustFields.Where(f => !JsonNode.DeepEquals(before.Config[f], after.Config[f])).ToList();
        if (changed.Count == 0) return null;
        return New(after, TrustChanged, now, new JsonObject
        {
            ["connectionId"] = after.Id.Value,
            ["tenantId"] = after.TenantId.Value,
            ["changedFields"] = new JsonArray(changed.Select(f => (JsonNode?)f).ToArray()),
            ["oldCertificateThumbprints"] = Thumbprints(before),
            ["newCertificateThumbprints"] = Thumbprints(after),
        });
    }

    private static JsonArray Thumbprints(Connection connection) =>
        new((connection.Config["idpCertificates"] as JsonArray ?? []).OfType<JsonValue>()
            .Select(v => v.TryGetValue<string>(out var der) ? der : null).OfType<string>()
            .Select(der => (JsonNode?)Convert.ToHexString(SHA256.HashData(Convert.FromBase64String(der)))).ToArray());
}
