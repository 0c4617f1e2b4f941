using Sso.Functions.Tenants;

namespace Sso.Functions.Setup;

/// <summary>Why a setup link's secret opens nothing.</summary>
public enum SetupLinkRefusal
{
    Unknown,
    Revoked,
    Expired,

    /// <summary>Issued with the secret in the path, where it could reach server logs.</summary>
    OldFormat,

    /// <summary>The link's tenant is gone.</summary>
    TenantGone,
}

/// <summary>An open, usable link and its tenant.</summary>
public sealed record OpenedSetupLink(SetupLink Link, Tenant Tenant);

/// <summary>
/// Opening a setup link by its secret, without HTTP (<see cref="SetupSessionGate"/> is the
/// adapter that reads the cookie and writes the page): the link when it is known, unrevoked,
/// unexpired and of the current format, and its tenant exists. A refusal is logged without the secret.
/// </summary>
public sealed partial class SetupSessions(SetupLinkStore links, TenantStore tenants, TimeProvider clock, ILoggerFactory loggers)
{
    private readonly ILogger logger = loggers.CreateLogger("Sso.Functions.Setup");

    public async Task<Result<OpenedSetupLink, SetupLinkRefusal>> OpenAsync(string token, CancellationToken cancellationToken)
    {
        var link = await links.FindByTokenAsync(token, cancellationToken);
        if (link is null)
        {
            LogLinkRefused(logger, "unknown", "-", "-");
            return SetupLinkRefusal.Unknown;
        }
        if (link.RevokedAt is not null || clock.GetUtcNow() >= link.ExpiresAt)
        {
            var revoked = link.RevokedAt is not null;
            LogLinkRefused(logger, revoked ? "revoked" : "expired", link.TenantId.Value, link.Id);
            return revoked ? SetupLinkRefusal.Revoked : SetupLinkRefusal.Expired;
        }
        if (!link.TokenInFragment)
        {
            LogLinkRefused(logger, "old-format", link.TenantId.Value, link.Id);
            return SetupLinkRefusal.OldFormat;
        }
        if (await tenants.FindAsync(link.TenantId, cancellationToken) is not { } tenant) return SetupLinkRefusal.TenantGone;
        return new OpenedSetupLink(link, tenant);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Setup link refused: {Outcome} (tenant {TenantId}, link {LinkId})")]
    private static partial void LogLinkRefused(ILogger logger, string outcome, string tenantId, string linkId);
}
