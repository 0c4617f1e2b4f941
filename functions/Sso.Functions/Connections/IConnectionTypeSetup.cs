using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Connections;

/// <summary>
/// What one connection type (SAML in <c>Saml/</c>, OIDC in <c>Oidc/</c>) adds to <see cref="ConnectionSetup"/>:
/// reading its part of a create or update body, its metadata, and what it keeps outside the row.
/// Registered in DI once per type; <see cref="ConnectionSetup"/> picks one by <see cref="Type"/>.
/// </summary>
public interface IConnectionTypeSetup
{
    /// <summary>The <see cref="ConnectionTypes"/> value this setup handles.</summary>
    string Type { get; }

    /// <summary>Validates a create body (without <c>domains</c>) into a connection with <paramref name="id"/>; nothing of the row is stored.</summary>
    Task<Result<Connection, Problem>> CreateAsync(ConnectionId id, TenantId tenantId, JsonObject body, CancellationToken cancellationToken);

    /// <summary>Applies a PATCH body (without <c>domains</c>) to <paramref name="before"/>.</summary>
    Task<Result<Connection, Problem>> UpdateAsync(Connection before, JsonObject patch, CancellationToken cancellationToken);

    /// <summary>Stores what the new row will point at (SAML: the SP keys), just before the row is written.</summary>
    Task BeforeCreateAsync(Connection connection, CancellationToken cancellationToken);

    /// <summary>Removes what the deleted row pointed at (SAML: the SP keys; OIDC: the client secret).</summary>
    Task DeletedAsync(Connection connection, CancellationToken cancellationToken);

    /// <summary>
    /// Fetches the connection's metadata again; null when it has none to refresh. A failure is
    /// recorded in the returned connection, which keeps its last good metadata.
    /// </summary>
    Task<MetadataRefresh?> RefreshMetadataAsync(Connection connection, CancellationToken cancellationToken);

    /// <summary>Adds the URLs the IdP admin pastes into the IdP to a connection's management view.</summary>
    void DescribeUrls(JsonObject view, Connection connection);
}

/// <summary>A connection after a metadata fetch, and why the fetch failed (null when it did not).</summary>
public sealed record MetadataRefresh(Connection Connection, string? Error);
