namespace Sso.Functions.Tenants;

/// <summary>
/// Per-tenant sign-in and role policy. <see cref="Roles"/> is ordered from lowest to highest;
/// when a user qualifies for several roles the highest wins.
/// </summary>
public sealed record TenantSettings
{
    public bool JitProvisioning { get; set; }
    public bool EnforceSso { get; set; }
    public string DefaultRole { get; set; } = "member";
    public string[] Roles { get; set; } = ["member", "admin"];
    public GroupRoleMapping[] GroupRoleMappings { get; set; } = [];
    public string? RoleAttribute { get; set; }

    /// <summary>
    /// While true, an unverified domain routes no sign-in and claims no email. Null on input
    /// means the service default: on in Azure, off in Development.
    /// </summary>
    public bool? RequireVerifiedDomains { get; set; }

    /// <summary>How long the tenant's audit trail is kept; null means the service's Audit:RetentionDays.</summary>
    public int? AuditRetentionDays { get; set; }
    /// <summary>
    /// The mass-deprovisioning guard: more than this share of a directory's users deprovisioned
    /// within <c>MassDeprovisionGuard.Window</c>, and at least <see cref="MassDeprovisionMinUsers"/>
    /// of them, records <c>dsync.directory.mass_deprovision</c>; with <see cref="HoldMassDeprovision"/>
    /// the directory's deprovisioning fan-out is parked until an administrator releases or cancels it.
    /// </summary>
    public double MassDeprovisionThreshold { get; set; } = 0.30;
    public int MassDeprovisionMinUsers { get; set; } = 20;
    public bool HoldMassDeprovision { get; set; }

    public static TenantSettings Default { get; } = new();

    public Result<TenantSettings, string> Validate()
    {
        if (Roles is null || Roles.Length == 0) return "settings.roles must list at least one role";
        if (Roles.Length > 50) return "settings.roles may list at most 50 roles";
        foreach (var role in Roles)
            if (string.IsNullOrWhiteSpace(role) || role.Length > 64)
                return "each role in settings.roles must be 1-64 characters";
        if (Roles.Distinct(StringComparer.Ordinal).Count() != Roles.Length) return "settings.roles lists a role twice";
        if (string.IsNullOrEmpty(DefaultRole) || !Roles.Contains(DefaultRole))
            return $"settings.defaultRole '{DefaultRole}' is not one of settings.roles";
        if (GroupRoleMappings is null) return "settings.groupRoleMappings must be an array";
        if (GroupRoleMappings.Length > 200) return "settings.groupRoleMappings may hold at most 200 mappings";
        foreach (var mapping in GroupRoleMappings)
        {
            if (mapping is null || string.IsNullOrWhiteSpace(mapping.Group) || mapping.Group.Length > 256)
                return "each group role mapping needs a group (display name or id) of 1-256 characters";
            if (!Roles.Contains(mapping.Role))
                return $"the mapping for group '{mapping.Group}' names the role '{mapping.Role}', which is not one of settings.roles";
        }
        if (RoleAttribute is { Length: 0 or > 256 }) return "settings.roleAttribute must be 1-256 characters or null";
        if (AuditRetentionDays is < 1 or > Audit.AuditOptions.MaxRetentionDays)
            return $"settings.auditRetentionDays must be from 1 to {Audit.AuditOptions.MaxRetentionDays} days or null";
        if (!(MassDeprovisionThreshold is > 0 and <= 1)) return "settings.massDeprovisionThreshold must be a share above 0 and at most 1 (e.g. 0.3)";
        if (MassDeprovisionMinUsers is < 1 or > 1_000_000) return "settings.massDeprovisionMinUsers must be 1-1000000";
        return this;
    }

    /// <summary>The rank of a role: higher wins; -1 when the role is not known.</summary>
    public int RankOf(string role) => Array.IndexOf(Roles, role);
}

public sealed record GroupRoleMapping(string Group, string Role);
