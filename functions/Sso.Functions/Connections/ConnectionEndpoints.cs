using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Oidc;
using Sso.Functions.Saml;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Connections;

public static class ConnectionEndpoints
{
    private const string Base = "/api/v1/tenants/{tenantId}/connections";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateConnection", Base, ["POST"], AdminApi.Require(CreateAsync)),
        new("ListConnections", Base, ["GET"], AdminApi.Require(ListAsync)),
        new("GetConnection", Base + "/{connectionId}", ["GET"], AdminApi.Require(GetAsync)),
        new("UpdateConnection", Base + "/{connectionId}", ["PATCH"], AdminApi.Require(UpdateAsync)),
        new("DeleteConnection", Base + "/{connectionId}", ["DELETE"], AdminApi.Require(DeleteAsync)),
        new("RefreshConnectionMetadata", Base + "/{connectionId}/refresh-metadata", ["POST"], AdminApi.Require(RefreshMetadataAsync)),
        new("ConfirmConnection", Base + "/{connectionId}/confirm", ["POST"], AdminApi.Require(ConfirmAsync)),
    ];

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var body = await ReadObjectAsync(context);
        if (!body.IsSuccess) return ProblemResults.Write(body.Error);
        var created = await CreateConnectionAsync(context, tenant.Id, body.Value);
        if (!created.IsSuccess) return ProblemResults.Write(created.Error);
        var connection = created.Value;
        return JsonResults.Created($"/api/v1/tenants/{tenant.Id}/connections/{connection.Id}",
            await ToViewAsync(context, connection), SsoJsonContext.Default.JsonObject);
    }

    /// <summary>
    /// Validates a create body (as POST .../connections takes it) and stores the connection; the
    /// setup portal creates connections through this too, with the SAML connection id it showed
    /// the admin before there was metadata (<paramref name="reservedSamlId"/>).
    /// </summary>
    public static async Task<Result<Connection, Problem>> CreateConnectionAsync(HttpContext context, TenantId tenantId, JsonObject body,
        ConnectionId? reservedSamlId = null, string? setupLinkId = null)
    {
        var store = context.RequestServices.GetRequiredService<ConnectionStore>();
        if ((await store.ListAsync(tenantId, context.RequestAborted)).Count >= ConnectionStore.MaxConnectionsPerTenant)
            return Problem.Validation($"A tenant may have at most {ConnectionStore.MaxConnectionsPerTenant} connections.");

        var type = body["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        var domains = new JsonObject();
        if (TakeDomains(body, out var typeBody) is { } domainsInput
            && await ApplyDomainsAsync(context, tenantId, domains, domainsInput) is { } domainsProblem)
            return domainsProblem;
        var built = type switch
        {
            ConnectionTypes.Saml => await SamlConnectionSetup.CreateAsync(context, tenantId, typeBody),
            ConnectionTypes.Oidc => await OidcConnectionSetup.CreateAsync(context, tenantId, typeBody),
            _ => Problem.Validation("'type' must be \"saml\" or \"oidc\"."),
        };
        if (!built.IsSuccess) return built.Error;
        var connection = built.Value with { SetupLinkId = setupLinkId };
        if (domains[ConnectionDomains.Member] is { } listed) connection.Config[ConnectionDomains.Member] = listed.DeepClone();
        if (!connection.FitsInRow) return Problem.Validation("The connection's configuration is too large to store.");
        if (connection.TenantId != tenantId) throw new InvalidOperationException("A connection setup returned another tenant's connection.");
        // Only SAML: nothing is stored under a SAML connection's id until below (OIDC stores its secret first).
        if (reservedSamlId is { } reserved && connection.Type == ConnectionTypes.Saml) connection = connection with { Id = reserved };

        if (connection.Type == ConnectionTypes.Saml)
            await context.RequestServices.GetRequiredService<SamlServiceProviderKeys>().GetOrCreateAsync(connection.Id, context.RequestAborted);
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (await store.CreateAsync(connection, context.RequestAborted, [ConnectionEvents.CreatedEvent(connection, now)]) != SaveOutcome.Saved)
            return Problem.Conflict("A connection with this id exists; retry the request.");
        return connection;
    }

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var connections = await context.RequestServices.GetRequiredService<ConnectionStore>().ListAsync(tenant.Id, context.RequestAborted);
        var list = new JsonObject
        {
            ["data"] = new JsonArray(connections.Select(c => (JsonNode?)ToView(context, c, connections)).ToArray()),
            ["nextCursor"] = null,
        };
        return JsonResults.Ok(list, SsoJsonContext.Default.JsonObject);
    }

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } connection) return ConnectionNotFound(context);
        return JsonResults.Ok(await ToViewAsync(context, connection), SsoJsonContext.Default.JsonObject);
    }

    private static async Task<IResult> UpdateAsync(HttpContext context)
    {
        var body = await ReadObjectAsync(context);
        if (!body.IsSuccess) return ProblemResults.Write(body.Error);
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var tenantId)
            || !ConnectionId.TryParse(context.RouteString("connectionId"), out var connectionId))
            return ConnectionNotFound(context);
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        var updated = await UpdateConnectionAsync(context, tenantId, connectionId, body.Value);
        if (updated.IsSuccess) return JsonResults.Ok(await ToViewAsync(context, updated.Value), SsoJsonContext.Default.JsonObject);
        return updated.Error.Status == 404 ? ConnectionNotFound(context) : ProblemResults.Write(updated.Error);
    }

    /// <summary>
    /// Applies a PATCH body to a stored connection under its ETag (retrying a lost race); a
    /// missing connection is a 404 problem. The setup portal updates connections through this too.
    /// </summary>
    public static async Task<Result<Connection, Problem>> UpdateConnectionAsync(HttpContext context, TenantId tenantId, ConnectionId connectionId,
        JsonObject body)
    {
        var store = context.RequestServices.GetRequiredService<ConnectionStore>();
        var domainsInput = TakeDomains(body, out var typeBody);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindAsync(tenantId, connectionId, context.RequestAborted) is not { } before)
                return Problem.NotFound("connection", connectionId.Value);
            var updated = before.Type switch
            {
                ConnectionTypes.Saml => await SamlConnectionSetup.UpdateAsync(context, before, typeBody),
                ConnectionTypes.Oidc => await OidcConnectionSetup.UpdateAsync(context, before, typeBody),
                _ => Problem.Validation($"The connection has the unknown type '{before.Type}'."),
            };
            if (!updated.IsSuccess) return updated.Error;
            var after = updated.Value with { Id = before.Id, TenantId = before.TenantId, Type = before.Type, CreatedAt = before.CreatedAt };
            if (domainsInput is not null && await ApplyDomainsAsync(context, tenantId, after.Config, domainsInput) is { } domainsProblem)
                return domainsProblem;
            if (!after.FitsInRow) return Problem.Validation("The connection's configuration is too large to store.");
            var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            switch (await store.ReplaceAsync(before, after, context.RequestAborted,
                        ConnectionEvents.UpdatedEvent(before, after, now) is { } changed ? [changed] : null))
            {
                case SaveOutcome.Saved: return after;
                case SaveOutcome.NotFound: return Problem.NotFound("connection", connectionId.Value);
            }   // Stale: another writer won the ETag race; read again and re-apply.
        }
        return Problem.Conflict("The connection kept changing while the update was applied; retry the request.");
    }

    private static async Task<IResult> RefreshMetadataAsync(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<ConnectionStore>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await FindAsync(context) is not { } before) return ConnectionNotFound(context);
            if (before.Type != ConnectionTypes.Saml || before.ConfigString("idpMetadataUrl") is null)
                return ProblemResults.Write(Problem.Validation("Only a SAML connection set up from 'idpMetadataUrl' has metadata to refresh."));
            var (after, error) = await SamlConnectionSetup.RefreshMetadataAsync(context.RequestServices, before, context.RequestAborted);
            switch ((await SaveRefreshedAsync(context.RequestServices, before, after, context.RequestAborted)).Outcome)
            {
                case SaveOutcome.Saved:
                    return error is null
                        ? JsonResults.Ok(await ToViewAsync(context, after), SsoJsonContext.Default.JsonObject)
                        : ProblemResults.Write(new Problem(502, "idp-metadata-unavailable", "The IdP metadata could not be refreshed",
                            $"{error}; the connection keeps its last good metadata."));
                case SaveOutcome.NotFound: return ConnectionNotFound(context);
            }
        }
        return ProblemResults.Write(Problem.Conflict("The connection kept changing while its metadata was refreshed; retry the request."));
    }

    private static async Task<IResult> DeleteAsync(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<ConnectionStore>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await FindAsync(context) is not { } connection) return ConnectionNotFound(context);
            var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            switch (await store.DeleteAsync(connection, context.RequestAborted, [ConnectionEvents.DeletedEvent(connection, now)]))
            {
                case SaveOutcome.Saved:
                    if (connection.Type == ConnectionTypes.Saml)
                        await context.RequestServices.GetRequiredService<SamlServiceProviderKeys>().DeleteAsync(connection.Id, context.RequestAborted);
                    else if (connection.Type == ConnectionTypes.Oidc)
                        await OidcConnectionSetup.DeletedAsync(context, connection);
                    return Results.NoContent();
                case SaveOutcome.NotFound: return ConnectionNotFound(context);
            }
        }
        return ProblemResults.Write(Problem.Conflict("The connection kept changing while it was deleted; retry the request."));
    }

    /// <summary>
    /// Stores a metadata refresh (the hourly timer's or an admin's). When the IdP's entity ID, SSO
    /// URL or signing certificates changed, <c>connection.trust_changed</c> commits with the row
    /// (issue 18.7): trust material never changes silently. The caller audits it: an admin's refresh
    /// is an admin change, the timer's a system one.
    /// </summary>
    /// <returns>The outcome, and the fields whose trust material changed (null when none did or nothing was saved).</returns>
    public static async Task<(SaveOutcome Outcome, IReadOnlyList<string>? TrustChangedFields)> SaveRefreshedAsync(IServiceProvider services,
        Connection before, Connection after, CancellationToken cancellationToken)
    {
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var trustChanged = ConnectionEvents.TrustChangedEvent(before, after, now);
        var saved = await services.GetRequiredService<ConnectionStore>().ReplaceAsync(before, after, cancellationToken,
            trustChanged is null ? null : [trustChanged]);
        return (saved, saved == SaveOutcome.Saved && trustChanged is not null
            ? trustChanged.Data["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()).ToList()
            : null);
    }

    /// <summary>
    /// POST .../connections/{id}/confirm: an admin vouches for a connection a setup link created, so
    /// revoking the link no longer disables it; a connection the revocation disabled is enabled again.
    /// </summary>
    private static async Task<IResult> ConfirmAsync(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<ConnectionStore>();
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await FindAsync(context) is not { } before) return ConnectionNotFound(context);
            var after = before with
            {
                ConfirmedAt = before.SetupLinkId is null ? before.ConfirmedAt : before.ConfirmedAt ?? now,
                DisabledAt = null,
                DisabledReason = null,
            };
            if (after == before) return JsonResults.Ok(await ToViewAsync(context, before), SsoJsonContext.Default.JsonObject);
            after = after with { UpdatedAt = now };
            switch (await store.ReplaceAsync(before, after, context.RequestAborted,
                        ConnectionEvents.UpdatedEvent(before, after, now) is { } changed ? [changed] : null))
            {
                case SaveOutcome.Saved: return JsonResults.Ok(await ToViewAsync(context, after), SsoJsonContext.Default.JsonObject);
                case SaveOutcome.NotFound: return ConnectionNotFound(context);
            }
        }
        return ProblemResults.Write(Problem.Conflict("The connection kept changing while it was confirmed; retry the request."));
    }

    /// <summary>
    /// Disables the connections <paramref name="setupLinkId"/> created that no admin confirmed (the
    /// link was revoked: whoever held it may not keep an IdP that signs people in).
    /// </summary>
    public static async Task<int> DisableUnconfirmedAsync(IServiceProvider services, TenantId tenantId, string setupLinkId,
        CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<ConnectionStore>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
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

    private static async Task<Problem?> ApplyDomainsAsync(HttpContext context, TenantId tenantId, JsonObject config, JsonObject input)
    {
        if (await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(tenantId, context.RequestAborted) is not { } tenant)
            return Problem.NotFound("tenant", tenantId.Value);
        return ConnectionDomains.Apply(config, input, tenant);
    }

    /// <summary><see cref="ToView"/> with the tenant's other connections read, for the domains warning.</summary>
    public static async Task<JsonObject> ToViewAsync(HttpContext context, Connection connection) =>
        ToView(context, connection,
            await context.RequestServices.GetRequiredService<ConnectionStore>().ListAsync(connection.TenantId, context.RequestAborted));

    /// <summary>
    /// A connection as the management API shows it: its ids, the URLs to paste into the IdP, and
    /// its (secret-free) configuration. With <paramref name="tenantConnections"/> (every connection
    /// of the tenant) it warns <c>domains_not_set</c> when the connection refuses every sign-in for
    /// want of a <c>domains</c> list.
    /// </summary>
    public static JsonObject ToView(HttpContext context, Connection connection, IReadOnlyList<Connection>? tenantConnections = null)
    {
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        var view = new JsonObject
        {
            ["id"] = connection.Id.Value,
            ["type"] = connection.Type,
            ["tenantId"] = connection.TenantId.Value,
            ["name"] = connection.Name,
        };
        if (connection.Type == ConnectionTypes.Saml)
        {
            view["spEntityId"] = SamlServiceProviderUrls.EntityId(options, connection.Id);
            view["acsUrl"] = SamlServiceProviderUrls.AcsUrl(options, connection.Id);
            view["spMetadataUrl"] = SamlServiceProviderUrls.MetadataUrl(options, connection.Id);
        }
        else if (connection.Type == ConnectionTypes.Oidc)
        {
            view["redirectUri"] = options.Url("/oidc/callback");
        }
        CertificateExpiryCheck.Describe(view, connection, context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow());
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

    private static async Task<Result<JsonObject, Problem>> ReadObjectAsync(HttpContext context)
    {
        const int limit = 1024 * 1024 + 64 * 1024; // room for pasted IdP metadata
        if (context.Request.ContentType is { } contentType && !JsonResults.IsJson(contentType))
            return Problem.UnsupportedMediaType();
        var bytes = await context.Request.ReadBodyBytesAsync(limit, context.RequestAborted);
        if (bytes is null) return Problem.PayloadTooLarge(limit);
        if (bytes.Length == 0) return Problem.InvalidJson("The request body is empty.");
        try
        {
            return JsonNode.Parse(bytes) is JsonObject body
                ? body
                : Problem.InvalidJson("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            return JsonResults.DescribeJsonException(e);
        }
    }

    private static async Task<Tenant?> FindTenantAsync(HttpContext context)
    {
        var raw = context.RouteString("tenantId");
        if (!TenantId.TryParse(raw, out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static async Task<Connection?> FindAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var tenantId)) return null;
        if (!ConnectionId.TryParse(context.RouteString("connectionId"), out var connectionId)) return null;
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        return await context.RequestServices.GetRequiredService<ConnectionStore>().FindAsync(tenantId, connectionId, context.RequestAborted);
    }

    private static IResult TenantNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));

    private static IResult ConnectionNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("connection", context.RouteString("connectionId")));
}
