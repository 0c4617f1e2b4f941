using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Tenants;

namespace Sso.Functions.Connections;

/// <summary>
/// Which of the tenant's domains a connection may assert (issue 18.6): <c>domains</c> on create and
/// PATCH. Without a list a connection asserts every domain of the tenant (as the sign-in guards
/// count them, so a domain verified later counts) while it is the tenant's only enabled
/// connection, and nothing at all once another one exists (see <see cref="AssertsNothing"/>): a
/// second IdP, added through a setup link or by mistake, must never sign in as every user of the tenant. <c>null</c> removes the list.
/// </summary>
public static class ConnectionDomains
{
    public const string Member = "domains";
    public const int MaxDomains = 100;

    /// <summary>Copies a valid <c>domains</c> of <paramref name="input"/> into <paramref name="config"/>; null, or why not.</summary>
    public static Problem? Apply(JsonObject config, JsonObject input, Tenant tenant)
    {
        if (!input.ContainsKey(Member)) return null;
        if (input[Member] is null)
        {
            config.Remove(Member);
            return null;
        }
        if (input[Member] is not JsonArray array || array.Count > MaxDomains)
            return Problem.Validation($"'{Member}' must list at most {MaxDomains} of the tenant's domains (or be null for the default).");
        var domains = new List<string>();
        foreach (var item in array)
        {
            if (item is not JsonValue value || !value.TryGetValue<string>(out var raw) || DomainName.Normalize(raw) is not { IsSuccess: true } domain)
                return Problem.Validation($"Each of '{Member}' must be a domain name.");
            if (!tenant.Domains.Contains(domain.Value, StringComparer.Ordinal))
                return Problem.Validation($"'{domain.Value}' is not one of the tenant's domains; a connection may assert only the tenant's own domains.");
            if (!domains.Contains(domain.Value)) domains.Add(domain.Value);
        }
        config[Member] = new JsonArray(domains.Select(d => (JsonNode?)d).ToArray());
        return null;
    }

    /// <summary>The connection's own list, or null when it has none (the default).</summary>
    public static IReadOnlyList<string>? Listed(Connection connection) =>
        connection.Config[Member] is JsonArray array
            ? array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var d) ? d : null).OfType<string>().ToList()
            : null;

    /// <summary>
    /// Whether a connection without a list asserts nothing: true when another enabled connection of
    /// the tenant exists. A connection a setup link created and no admin has confirmed does not
    /// count against one that an admin created or confirmed, so a leaked link cannot shut the
    /// tenant's working IdP out; it counts against every other unconfirmed one, so such a link
    /// never gets the default either. <paramref name="tenantConnections"/> is every connection of the tenant.
    /// </summary>
    public static bool AssertsNothing(Connection connection, IEnumerable<Connection> tenantConnections) =>
        Listed(connection) is null
        && tenantConnections.Any(c => c.Id != connection.Id && c.Enabled && (connection.AwaitsConfirmation || !c.AwaitsConfirmation));

    /// <summary>
    /// Where an email of <paramref name="domain"/> signs in (login_hint, SSO discovery): the oldest
    /// enabled connection that lists the domain, else the oldest enabled one, else the oldest.
    /// </summary>
    public static Connection? RouteFor(IReadOnlyList<Connection> tenantConnectionsOldestFirst, string? domain) =>
        (domain is null ? null : tenantConnectionsOldestFirst.FirstOrDefault(c => c.Enabled && Listed(c)?.Contains(domain, StringComparer.Ordinal) == true))
        ?? tenantConnectionsOldestFirst.FirstOrDefault(c => c.Enabled)
        ?? tenantConnectionsOldestFirst.FirstOrDefault();

    /// <summary>The view's warning when the connection refuses every sign-in for want of a list.</summary>
    public const string NotSetWarning = "domains_not_set";
}
