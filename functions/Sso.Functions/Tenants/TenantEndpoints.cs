using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

public static class TenantEndpoints
{
    public const int MaxDomains = 50;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateTenant", "/api/v1/tenants", ["POST"], AdminApi.Require(CreateAsync)),
        new("ListTenants", "/api/v1/tenants", ["GET"], AdminApi.Require(ListAsync)),
        new("GetTenant", "/api/v1/tenants/{tenantId}", ["GET"], AdminApi.Require(GetAsync)),
        new("UpdateTenant", "/api/v1/tenants/{tenantId}", ["PATCH"], AdminApi.Require(UpdateAsync)),
        new("DeleteTenant", "/api/v1/tenants/{tenantId}", ["DELETE"], AdminApi.Require(DeleteAsync)),
    ];

    private static readonly HashSet<string> PatchMembers = ["name", "domains", "settings"];

    private static readonly HashSet<string> SettingsMembers =
        ["jitProvisioning", "enforceSso", "defaultRole", "roles", "groupRoleMappings", "roleAttribute", "requireVerifiedDomains",
        "auditRetentionDays", "massDeprovisionThreshold", "massDeprovisionMinUsers", "holdMassDeprovision"];

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        var request = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.CreateTenantRequest);
        if (!request.IsSuccess) return ProblemResults.Write(request.Error);

        var clock = context.RequestServices.GetRequiredService<TimeProvider>();
        var candidate = Validate(request.Value.Name, request.Value.Domains ?? [], request.Value.Settings ?? TenantSettings.Default,
            context.RequestServices.GetRequiredService<SsoOptions>());
        if (!candidate.IsSuccess) return ProblemResults.Write(candidate.Error);

        var now = clock.GetUtcNow();
        var (name, domains, settings) = candidate.Value;
        var tenant = new Tenant(TenantId.New(), name, domains, settings, now, now);
        var store = context.RequestServices.GetRequiredService<TenantStore>();
        var saved = await store.CreateAsync(tenant, context.RequestAborted);
        if (saved.Outcome == SaveOutcome.AlreadyExists) return ProblemResults.Write(Problem.DomainTaken(saved.TakenDomain!));
        context.Items[RequestPipeline.TenantItem] = tenant.Id.Value;
        return JsonResults.Created($"/api/v1/tenants/{tenant.Id}", tenant.ToView(), SsoJsonContext.Default.TenantView);
    }

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var limit = int.TryParse(context.Request.Query["limit"], out var l) ? Math.Clamp(l, 1, 200) : 50;
        var cursor = context.Request.Query["cursor"].ToString() is { Length: > 0 } c ? c : null;
        var store = context.RequestServices.GetRequiredService<TenantStore>();
        var (tenants, next) = await store.ListAsync(cursor, limit, context.RequestAborted);
        return JsonResults.Ok(new TenantList(tenants.Select(t => t.ToView()).ToArray(), next), SsoJsonContext.Default.TenantList);
    }

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } tenant) return NotFound(context);
        return JsonResults.Ok(tenant.ToView(), SsoJsonContext.Default.TenantView);
    }

    private static async Task<IResult> UpdateAsync(HttpContext context)
    {
        if (context.Request.ContentType is { } contentType && !JsonResults.IsJson(contentType))
            return ProblemResults.Write(Problem.UnsupportedMediaType());
        var body = await context.Request.ReadBodyBytesAsync(64 * 1024, context.RequestAborted);
        if (body is null) return ProblemResults.Write(Problem.PayloadTooLarge(64 * 1024));
        JsonObject patch;
        try
        {
            if (JsonNode.Parse(body) is not JsonObject parsed)
                return ProblemResults.Write(Problem.InvalidJson("A merge patch of a tenant must be a JSON object."));
            patch = parsed;
        }
        catch (JsonException e)
        {
            return ProblemResults.Write(JsonResults.DescribeJsonException(e));
        }
        if (JsonMergePatch.FirstUnknownMember(patch, PatchMembers) is { } unknown)
            return ProblemResults.Write(Problem.UnknownField(unknown));
        if (patch["settings"] is JsonObject settingsPatch
            && JsonMergePatch.FirstUnknownMember(settingsPatch, SettingsMembers, "settings.") is { } unknownSetting)
            return ProblemResults.Write(Problem.UnknownField(unknownSetting));

        var store = context.RequestServices.GetRequiredService<TenantStore>();
        var clock = context.RequestServices.GetRequiredService<TimeProvider>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await FindAsync(context) is not { } before) return NotFound(context);
            var current = JsonSerializer.SerializeToNode(
                new TenantPatchTarget { Name = before.Name, Domains = before.Domains.ToArray(), Settings = before.Settings },
                SsoJsonContext.Default.TenantPatchTarget);
            TenantPatchTarget? target;
            try
            {
                target = JsonMergePatch.Apply(current, patch).Deserialize(SsoJsonContext.Default.TenantPatchTarget);
            }
            catch (JsonException e)
            {
                return ProblemResults.Write(JsonResults.DescribeJsonException(e));
            }
            if (target is null) return ProblemResults.Write(Problem.InvalidJson("The patched tenant is empty."));

            var candidate = Validate(target.Name, target.Domains ?? [], target.Settings ?? TenantSettings.Default,
                context.RequestServices.GetRequiredService<SsoOptions>());
            if (!candidate.IsSuccess) return ProblemResults.Write(candidate.Error);
            var (name, domains, settings) = candidate.Value;
            var after = before with { Name = name, Domains = domains, Settings = settings, UpdatedAt = clock.GetUtcNow() };

            var saved = await store.ReplaceAsync(before, after, context.RequestAborted);
            switch (saved.Outcome)
            {
                case SaveOutcome.Saved:
                    return JsonResults.Ok(after.ToView(), SsoJsonContext.Default.TenantView);
                case SaveOutcome.AlreadyExists:
                    return ProblemResults.Write(Problem.DomainTaken(saved.TakenDomain!));
                case SaveOutcome.NotFound:
                    return NotFound(context);
            }   // Stale: another writer won the ETag race; read again and re-apply the patch.
        }
        return ProblemResults.Write(Problem.Conflict("The tenant kept changing while the patch was applied; retry the request."));
    }

    private static async Task<IResult> DeleteAsync(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<TenantStore>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await FindAsync(context) is not { } tenant) return NotFound(context);
            // Order: queue the purge of the tenant's directories and connections first, then
            // delete the row. The purge runs only once the row is gone, so a failed delete
            // purges nothing and a crash after the delete still purges.
            await context.RequestServices.GetRequiredService<ITenantPurge>().QueueAsync(tenant.Id, context.RequestAborted);
            switch (await store.DeleteAsync(tenant, context.RequestAborted))
            {
                case SaveOutcome.Saved: return Results.NoContent();
                case SaveOutcome.NotFound: return NotFound(context);
            }
        }
        return ProblemResults.Write(Problem.Conflict("The tenant kept changing while it was deleted; retry the request."));
    }

    private static async Task<Tenant?> FindAsync(HttpContext context)
    {
        var raw = context.RouteString("tenantId");
        if (!TenantId.TryParse(raw, out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static IResult NotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));

    private static Result<(string Name, string[] Domains, TenantSettings Settings), Problem> Validate(
        string? name, string[] domains, TenantSettings settings, SsoOptions options)
    {
        if (string.IsNullOrWhiteSpace(name)) return Problem.Validation("'name' is required.");
        if (name.Length > 200) return Problem.Validation("'name' must be at most 200 characters.");
        if (domains.Length > MaxDomains) return Problem.Validation($"A tenant may claim at most {MaxDomains} domains.");
        var normalized = new List<string>();
        foreach (var domain in domains)
        {
            var parsed = DomainName.Normalize(domain);
            if (!parsed.IsSuccess) return Problem.Validation($"domains: {parsed.Error.Message}.");
            if (!normalized.Contains(parsed.Value)) normalized.Add(parsed.Value);
        }
        var checkedSettings = settings.Validate();
        if (!checkedSettings.IsSuccess) return Problem.Validation(checkedSettings.Error + ".");
        var resolved = checkedSettings.Value.RequireVerifiedDomains is null
            ? checkedSettings.Value with { RequireVerifiedDomains = !options.IsDevelopment }
            : checkedSettings.Value;
        return (name.Trim(), normalized.ToArray(), resolved);
    }
}
