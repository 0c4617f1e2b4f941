using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Connections;

/// <summary>
/// The connection operations, for the management API, the setup portal and the timers alike:
/// typed inputs, a <see cref="Problem"/> for what the caller got wrong, no HTTP. Each type's
/// part of a body is read by its <see cref="IConnectionTypeSetup"/>; <c>domains</c> is read here.
/// </summary>
public sealed class ConnectionSetup(ConnectionStore store, TenantStore tenants, IEnumerable<IConnectionTypeSetup> types, TimeProvider clock)
{
    private readonly IReadOnlyDictionary<string, IConnectionTypeSetup> _types = types.ToDictionary(t => t.Type);

    /// <summary>
    /// Validates a create body (as POST .../connections takes it) and stores the connection. The
    /// setup portal passes the SAML connection id it showed the admin before there was metadata
    /// (<paramref name="reservedSamlId"/>) and its link (<paramref name="setupLinkId"/>).
    /// </summary>
    public async Task<Result<Connection, Problem>> CreateAsync(Tenant tenant, JsonObject body, CancellationToken cancellationToken,
        ConnectionId? reservedSamlId = null, string? setupLinkId = null)
    {
        if ((await store.ListAsync(tenant.Id, cancellationToken)).Count >= ConnectionStore.MaxConnectionsPerTenant)
            return Problem.Validation($"A tenant may have at most {ConnectionStore.MaxConnectionsPerTenant} connections.");

        var type = body["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        var domains = new JsonObject();
        if (TakeDomains(body, out var typeBody) is { } domainsInput
            && await ApplyDomainsAsync(tenant.Id, domains, domainsInput, cancellationToken) is { } domainsProblem)
            return domainsProblem;
        if (type is null || !_types.TryGetValue(type, out var setup))
            return Problem.Validation("'type' must be \"saml\" or \"oidc\".");
        // Only SAML takes the reserved id: nothing is stored under a SAML connection's id before
        // its row (OIDC stores its client secret first, under a fresh id).
        var id = type == ConnectionTypes.Saml && reservedSamlId is { } reserved ? reserved : ConnectionId.New();
        var built = await setup.CreateAsync(id, tenant.Id, typeBody, cancellationToken);
        if (!built.IsSuccess) return built.Error;
        var connection = built.Value with { SetupLinkId = setupLinkId };
        if (domains[ConnectionDomains.Member] is { } listed) connection.Config[ConnectionDomains.Member] = listed.DeepClone();
        if (!connection.FitsInRow) return Problem.Validation("The connection's configuration is too large to store.");
        if (connection.TenantId != tenant.Id || connection.Id != id)
            throw new InvalidOperationException("A connection setup returned another connection than it was asked for.");

        await setup.BeforeCreateAsync(connection, cancellationToken);
        var now = clock.GetUtcNow();
        if (await store.CreateAsync(connection, cancellationToken, [ConnectionEvents.CreatedEvent(connection, now)]) != SaveOutcome.Saved)
            return Problem.Conflict("A connection with this id exists; retry the request.");
        return connection;
    }

    /// <summary>Applies a PATCH body to a stored connection under its ETag (retrying a lost race); a missing connection is a 404 problem.</summary>
    public async Task<Result<Connection, Problem>> UpdateAsync(TenantId tenantId, ConnectionId connectionId, JsonObject body,
        CancellationToken cancellationToken)
    {
        var domainsInput = TakeDomains(body, out var typeBody);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindAsync(tenantId, connectionId, cancellationToken) is not { } before)
                return Problem.NotFound("connection", connectionId.Value);
            var updated = _types.TryGetValue(before.Type, out var setup)
                ? await setup.UpdateAsync(before, typeBody, cancellationToken)
                : Problem.Validation($"The connection has the unknown type '{before.Type}'.");
            if (!updated.IsSuccess) return updated.Error;
            var after = updated.Value with { Id = before.Id, TenantId = before.TenantId, Type = before.Type, CreatedAt = before.CreatedAt };
            if (domainsInput is not null && await ApplyDomainsAsync(tenantId, after.Config, domainsInput, cancellationToken) is { } domainsProblem)
                return domainsProblem;
            if (!after.FitsInRow) return Problem.Validation("The connection's configuration is too large to store.");
            var now = clock.GetUtcNow();
            switch (await store.ReplaceAsync(before, after, cancellationToken,
                        ConnectionEvents.UpdatedEvent(before, after, now) is { } changed ? [changed] : null))
            {
                case SaveOutcome.Saved: return after;
                case SaveOutcome.NotFound: return Problem.NotFound("connection", connectionId.Value);
            }   // Stale: another writer won the ETag race; read again and re-apply.
        }
        return Problem.Conflict("The connection kept changing while the update was applied; retry the request.");
    }

    /// <summary>Deletes a connection, then what it pointed at (keys, secrets); returns the deleted connection.</summary>
    public async Task<Result<Connection, Problem>> DeleteAsync(TenantId tenantId, ConnectionId connectionId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindAsync(tenantId, connectionId, cancellationToken) is not { } connection)
                return Problem.NotFound("connection", connectionId.Value);
            var now = clock.GetUtcNow();
            switch (await store.DeleteAsync(connection, cancellationToken, [ConnectionEvents.DeletedEvent(connection, now)]))
            {
                case SaveOutcome.Saved:
                    if (_types.TryGetValue(connection.Type, out var setup)) await setup.DeletedAsync(connection, cancellationToken);
                    return connection;
                case SaveOutcome.NotFound: return Problem.NotFound("connection", connectionId.Value);
            }
        }
        return Problem.Conflict("The connection kept changing while it was deleted; retry the request.");
    }

    /// <summary>
    /// An admin's metadata refresh. A failed fetch is stored on the connection (which keeps its last
    /// good metadata) and answered as a 502 problem.
    /// </summary>
    public async Task<Result<Connection, Problem>> RefreshMetadataAsync(TenantId tenantId, ConnectionId connectionId,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindAsync(tenantId, connectionId, cancellationToken) is not { } before)
                return Problem.NotFound("connection", connectionId.Value);
            if (await FetchMetadataAsync(before, cancellationToken) is not { } refresh)
                return Problem.Validation("Only a SAML connection set up from 'idpMetadataUrl' has metadata to refresh.");
            switch ((await SaveRefreshedAsync(before, refresh.Connection, cancellationToken)).Outcome)
            {
                case SaveOutcome.Saved:
                    return refresh.Error is null
                        ? refresh.Connection
                        : new Problem(502, "idp-metadata-unavailable", "The IdP metadata could not be refreshed",
                            $"{refresh.Error}; the connection keeps its last good metadata.");
                case SaveOutcome.NotFound: return Problem.NotFound("connection", connectionId.Value);
            }
        }
        return Problem.Conflict("The connection kept changing while its metadata was refreshed; retry the request.");
    }

    /// <summary>The hourly timer's refresh of one connection: fetched once, saved unless it changed meanwhile; null when it has no metadata URL.</summary>
    public async Task<StoredRefresh?> RefreshStoredMetadataAsync(Connection connection, CancellationToken cancellationToken)
    {
        if (await FetchMetadataAsync(connection, cancellationToken) is not { } refresh) return null;
        var (saved, trustChanged) = await SaveRefreshedAsync(connection, refresh.Connection, cancellationToken);
        return new StoredRefresh(saved, refresh.Error, trustChanged);
    }

    private Task<MetadataRefresh?> FetchMetadataAsync(Connection connection, CancellationToken cancellationToken) =>
        _types.TryGetValue(connection.Type, out var setup)
            ? setup.RefreshMetadataAsync(connection, cancellationToken)
            : Task.FromResult<MetadataRefresh?>(null);

    /// <summary>
    /// Stores a metadata refresh (the hourly timer's or an admin's). When the IdP's entity ID, SSO
    /// URL or signing certificates changed, <c>connection.trust_changed</c> commits with the row
    /// (issue 18.7): trust material never changes silently. The caller audits it: an admin's refresh
    /// is an admin change, the timer's a system one.
    /// </summary>
    /// <returns>The outcome, and the fields whose trust material changed (null when none did or nothing was saved).</returns>
    private async Task<(SaveOutcome Outcome, IReadOnlyList<string>? TrustChangedFields)> SaveRefreshedAsync(
        Connection before, Connection after, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var trustChanged = ConnectionEvents.TrustChangedEvent(before, after, now);
        var saved = await store.ReplaceAsync(before, after, cancellationToken, trustChanged is null ? null : [trustChanged]);
        return (saved, saved == SaveOutcome.Saved && trustChanged is not null
            ? trustChanged.Data["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()).ToList()
            : null);
    }

    /// <summary>
    /// An admin vouches for a connection a setup link created, so revoking the link no longer
    /// disables it; a connection the revocation disabled is enabled again.
    /// </summary>
    public async Task<Result<Connection, Problem>> ConfirmAsync(TenantId tenantId, ConnectionId connectionId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindAsync(tenantId, connectionId, cancellationToken) is not { } before)
                return Problem.NotFound("connection", connectionId.Value);
            var after = before with
            {
                ConfirmedAt = before.SetupLinkId is null ? before.ConfirmedAt : before.ConfirmedAt ?? now,
                DisabledAt = null,
                DisabledReason = null,
            };
            if (after == before) return before;
            after = after with { UpdatedAt = now };
            switch (await store.ReplaceAsync(before, after, cancellationToken,
                        ConnectionEvents.UpdatedEvent(before, after, now) is { } changed ? [changed] : null))
            {
                case SaveOutcome.Saved: return after;
                case SaveOutcome.NotFound: return Problem.NotFound("connection", connectionId.Value);
            }
        }
        return Problem.Conflict("The connection kept changing while it was confirmed; retry the request.");
    }

    /// <summary>
    /// Disables the connections <paramref name="setupLinkId"/> created that no admin confirmed (the
    /// link was revoked: whoever held it may not keep an IdP that signs people in).
    /// </summary>
    public async Task<int> DisableUnconfirmedAsync(TenantId tenantId, string setupLinkId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var disabled = 0;
        foreach (var listed in await store.ListAsync(tenantId, cancellationToken))
        {
            if (listed.SetupLinkId != setupLinkId) continue;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                if (await store.FindAsync(tenantId, listed.Id, cancellationToken) is not { AwaitsConfirmation: true, Enabled: true } before) break;
                var after = before with { DisabledAt = now, DisabledReason = ConnectionDisabledReasons.SetupLinkRevoked, UpdatedAt = now };
                var outcome = await store.ReplaceAsync(before, after, cancellationToken, [ConnectionEvents.UpdatedEvent(before, after, now)!]);
                if (outcome == SaveOutcome.Saved) disabled++;
                if (outcome != SaveOutcome.Stale) break;
            }
        }
        return disabled;
    }

    /// <summary>Takes <c>domains</c> out of a body (the type-specific setups do not know it): its value, and the rest.</summary>
    private static JsonObject? TakeDomains(JsonObject body, out JsonObject typeBody)
    {
        typeBody = body;
        if (!body.ContainsKey(ConnectionDomains.Member)) return null;
        typeBody = body.DeepClone().AsObject();
        typeBody.Remove(ConnectionDomains.Member);
        return new JsonObject { [ConnectionDomains.Member] = body[ConnectionDomains.Member]?.DeepClone() };
    }

    private async Task<Problem?> ApplyDomainsAsync(TenantId tenantId, JsonObject config, JsonObject input, CancellationToken cancellationToken)
    {
        if (await tenants.FindAsync(tenantId, cancellationToken) is not { } tenant)
            return Problem.NotFound("tenant", tenantId.Value);
        return ConnectionDomains.Apply(config, input, tenant);
    }
}

/// <summary>The timer's metadata refresh of one connection: whether it was stored, why the fetch failed, which trust fields changed.</summary>
public sealed record StoredRefresh(SaveOutcome Outcome, string? Error, IReadOnlyList<string>? TrustChangedFields);
