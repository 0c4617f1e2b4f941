using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Tenants;

/// <summary>
/// Creating and changing tenants: the one implementation of their rules, called by the management
/// API (<see cref="TenantEndpoints"/>) and the operator console alike.
/// </summary>
public sealed class TenantAdministration(TenantStore store, ITenantPurge purge, SsoOptions options, TimeProvider clock)
{
    public const int MaxDomains = 50;

    private static readonly HashSet<string> PatchMembers = ["name", "domains", "settings"];

    private static readonly HashSet<string> SettingsMembers =
        ["jitProvisioning", "enforceSso", "defaultRole", "roles", "groupRoleMappings", "roleAttribute", "requireVerifiedDomains",
        "auditRetentionDays", "massDeprovisionThreshold", "massDeprovisionMinUsers", "holdMassDeprovision"];

    public async Task<Result<Tenant, Problem>> CreateAsync(CreateTenantRequest request, CancellationToken cancellationToken)
    {
        var candidate = Validate(request.Name, request.Domains ?? [], request.Settings ?? TenantSettings.Default);
        if (!candidate.IsSuccess) return candidate.Error;

        var now = clock.GetUtcNow();
        var (name, domains, settings) = candidate.Value;
        var tenant = new Tenant(TenantId.New(), name, domains, settings, now, now);
        var saved = await store.CreateAsync(tenant, cancellationToken);
        if (saved.Outcome == SaveOutcome.AlreadyExists) return Problem.DomainTaken(saved.TakenDomain!);
        return tenant;
    }

    /// <summary>Applies a JSON merge patch (RFC 7396) of <c>name</c>, <c>domains</c> and <c>settings</c>.</summary>
    public async Task<Result<Tenant, Problem>> UpdateAsync(TenantId tenantId, JsonObject patch, CancellationToken cancellationToken)
    {
        if (UnknownMember(patch) is { } unknown) return unknown;

        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindAsync(tenantId, cancellationToken) is not { } before) return NotFound(tenantId);
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
                return JsonResults.DescribeJsonException(e);
            }
            if (target is null) return Problem.InvalidJson("The patched tenant is empty.");

            var candidate = Validate(target.Name, target.Domains ?? [], target.Settings ?? TenantSettings.Default);
            if (!candidate.IsSuccess) return candidate.Error;
            var (name, domains, settings) = candidate.Value;
            var after = before with { Name = name, Domains = domains, Settings = settings, UpdatedAt = clock.GetUtcNow() };

            var saved = await store.ReplaceAsync(before, after, cancellationToken);
            switch (saved.Outcome)
            {
                case SaveOutcome.Saved:
                    return after;
                case SaveOutcome.AlreadyExists:
                    return Problem.DomainTaken(saved.TakenDomain!);
                case SaveOutcome.NotFound:
                    return NotFound(tenantId);
            }   // Stale: another writer won the ETag race; read again and re-apply the patch.
        }
        return Problem.Conflict("The tenant kept changing while the patch was applied; retry the request.");
    }

    /// <summary>Deletes the tenant; what it owned (directories, connections) is purged once its row is gone.</summary>
    public async Task<Result<TenantId, Problem>> DeleteAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await store.FindAsync(tenantId, cancellationToken) is not { } tenant) return NotFound(tenantId);
            // Order: queue the purge of the tenant's directories and connections first, then
            // delete the row. The purge runs only once the row is gone, so a failed delete
            // purges nothing and a crash after the delete still purges.
            await purge.QueueAsync(tenant.Id, cancellationToken);
            switch (await store.DeleteAsync(tenant, cancellationToken))
            {
                case SaveOutcome.Saved: return tenantId;
                case SaveOutcome.NotFound: return NotFound(tenantId);
            }
        }
        return Problem.Conflict("The tenant kept changing while it was deleted; retry the request.");
    }

    /// <summary>The problem of a patch member that is not a tenant's, checked before the tenant is looked up.</summary>
    public static Problem? UnknownMember(JsonObject patch)
    {
        if (JsonMergePatch.FirstUnknownMember(patch, PatchMembers) is { } unknown)
            return Problem.UnknownField(unknown);
        if (patch["settings"] is JsonObject settingsPatch
            && JsonMergePatch.FirstUnknownMember(settingsPatch, SettingsMembers, "settings.") is { } unknownSetting)
            return Problem.UnknownField(unknownSetting);
        return null;
    }

    public static Problem NotFound(TenantId tenantId) => Problem.NotFound("tenant", tenantId.Value);

    private Result<(string Name, string[] Domains, TenantSettings Settings), Problem> Validate(
        string? name, string[] domains, TenantSettings settings)
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
