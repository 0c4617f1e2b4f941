using System.Text.Json.Nodes;

namespace Sso.Functions.Connections;

/// <summary>A connection as the management API shows it.</summary>
public sealed class ConnectionViews(ConnectionStore store, IEnumerable<IConnectionTypeSetup> types, TimeProvider clock)
{
    private readonly IReadOnlyDictionary<string, IConnectionTypeSetup> _types = types.ToDictionary(t => t.Type);

    /// <summary><see cref="View"/> with the tenant's other connections read, for the domains warning.</summary>
    public async Task<JsonObject> ViewAsync(Connection connection, CancellationToken cancellationToken) =>
        View(connection, await store.ListAsync(connection.TenantId, cancellationToken));

    /// <summary>
    /// Its ids, the URLs to paste into the IdP, and its (secret-free) configuration. With
    /// <paramref name="tenantConnections"/> (every connection of the tenant) it warns
    /// <c>domains_not_set</c> when the connection refuses every sign-in for want of a <c>domains</c> list.
    /// </summary>
    public JsonObject View(Connection connection, IReadOnlyList<Connection>? tenantConnections = null)
    {
        var view = new JsonObject
        {
            ["id"] = connection.Id.Value,
            ["type"] = connection.Type,
            ["tenantId"] = connection.TenantId.Value,
            ["name"] = connection.Name,
        };
        if (_types.TryGetValue(connection.Type, out var setup)) setup.DescribeUrls(view, connection);
        CertificateExpiryCheck.Describe(view, connection, clock.GetUtcNow());
        view[ConnectionDomains.Member] = ConnectionDomains.Listed(connection) is { } listed
            ? new JsonArray(listed.Select(d => (JsonNode?)d).ToArray())
            : null;
        if (tenantConnections is not null && ConnectionDomains.AssertsNothing(connection, tenantConnections))
            view["warnings"]!.AsArray().Add((JsonNode?)ConnectionDomains.NotSetWarning);
        view["enabled"] = connection.Enabled;
        view["disabledAt"] = connection.DisabledAt?.ToString("O");
        view["disabledReason"] = connection.DisabledReason;
        view["setupLinkId"] = connection.SetupLinkId;
        view["awaitsConfirmation"] = connection.AwaitsConfirmation;
        view["confirmedAt"] = connection.ConfirmedAt?.ToString("O");
        foreach (var (name, value) in connection.Config)
            view.TryAdd(name, value?.DeepClone());
        view["createdAt"] = connection.CreatedAt.ToString("O");
        view["updatedAt"] = connection.UpdatedAt.ToString("O");
        return view;
    }
}
