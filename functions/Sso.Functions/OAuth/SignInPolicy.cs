using Sso.Functions.Storage;
using System.Text.Json.Nodes;
using Sso.Functions.Tenants;

namespace Sso.Functions.OAuth;

/// <summary>
/// The documented <c>error_description</c> codes of a refused sign-in (sent with
/// <c>error=access_denied</c>). The SaaS app may match on them.
/// </summary>
public static class SignInRefusals
{
    /// <summary>jitProvisioning is off and the tenant's directory holds no user with the asserted email.</summary>
    public const string UserNotProvisioned = "user_not_provisioned";

    /// <summary>The directory user was deleted by SCIM.</summary>
    public const string UserDeprovisioned = "user_deprovisioned";

    /// <summary>The directory user is inactive (<c>active: false</c>).</summary>
    public const string UserSuspended = "user_suspended";

    /// <summary>The IdP sent no usable email address.</summary>
    public const string EmailMissing = "email_missing";

    /// <summary>The asserted email's domain belongs to another tenant (allowOutsideDomains does not change this).</summary>
    public const string EmailDomainNotAllowed = "email_domain_not_allowed";

    /// <summary>The asserted email's domain is none of the tenant's domains and the connection does not set allowOutsideDomains.</summary>
    public const string EmailOutsideTenantDomains = "email_outside_tenant_domains";

    /// <summary>The asserted email's domain is the tenant's, but not verified while the tenant sets requireVerifiedDomains.</summary>
    public const string EmailDomainNotVerified = "email_domain_not_verified";

    /// <summary>The email's domain is the tenant's, but not one of the connection's <c>domains</c>.</summary>
    public const string EmailDomainNotAssertedByConnection = "email_domain_not_assigned_to_connection";

    /// <summary>The connection has no <c>domains</c> list while the tenant has another enabled connection.</summary>
    public const string ConnectionDomainsNotSet = "connection_domains_not_set";

    /// <summary>The connection is disabled (its setup link was revoked before an admin confirmed it).</summary>
    public const string ConnectionDisabled = "connection_disabled";

    /// <summary>The IdP's answer failed validation (the log has the SAML or OIDC failure kind).</summary>
    public const string IdpResponseRejected = "idp_response_rejected";

    /// <summary>The client sent prompt=login or max_age and the IdP answered with an older authentication (or, for max_age, none dated).</summary>
    public const string StaleAuthentication = "stale_authentication";

    /// <summary>The sign-in took longer than the pending sign-in lives, or its handle was already used.</summary>
    public const string SignInExpired = "sign_in_expired";

    /// <summary>The tenant or the connection was deleted while the user was at the IdP.</summary>
    public const string ConnectionUnavailable = "connection_unavailable";
}

/// <summary>A user of the tenant's directory, as the sign-in policy sees it.</summary>
public sealed record DirectoryUserView(string Id, string State, string? Role, IReadOnlyList<string> Groups, string? DirectoryId = null)
{
    public const string Active = "active";
    public const string Suspended = "suspended";
    public const string Deprovisioned = "deprovisioned";
}

/// <summary>What a permitted sign-in carries into the tokens.</summary>
/// <param name="DirectoryId">The directory that holds <paramref name="DirectoryUserId"/>: userinfo reads the user's row there.</param>
public sealed record SignInGrant(string Role, IReadOnlyList<string> Groups, string? DirectoryUserId, string? DirectoryId = null);

/// <summary>
/// DESIGN §3.2 sign-in policy. With jitProvisioning off only an active directory user whose
/// userName or primary email equals the asserted email may sign in; a suspended or
/// deprovisioned user is always refused. Role and groups come from the directory when it
/// knows the user, else from the asserted groups through the tenant's groupRoleMappings.
/// </summary>
public static class SignInPolicy
{
    public static Result<SignInGrant, string> Decide(TenantSettings settings, VerifiedIdentity identity, DirectoryUserView? directoryUser)
    {
        if (string.IsNullOrWhiteSpace(identity.Email)) return SignInRefusals.EmailMissing;

        if (directoryUser is not null)
        {
            switch (directoryUser.State)
            {
                case DirectoryUserView.Deprovisioned: return SignInRefusals.UserDeprovisioned;
                case DirectoryUserView.Suspended: return SignInRefusals.UserSuspended;
                case not DirectoryUserView.Active: return SignInRefusals.UserSuspended;
            }
            var role = directoryUser.Role is { } known && settings.RankOf(known) >= 0
                ? known
                : RoleFor(settings, directoryUser.Groups, null);
            return new SignInGrant(role, directoryUser.Groups, directoryUser.Id, directoryUser.DirectoryId);
        }

        if (!settings.JitProvisioning) return SignInRefusals.UserNotProvisioned;
        return new SignInGrant(RoleFor(settings, identity.Groups, RoleAttributeValues(settings, identity)), identity.Groups, null);
    }

    /// <summary>The highest role any of <paramref name="groups"/> maps to (roles are ordered low → high); defaultRole otherwise.</summary>
    public static string RoleFor(TenantSettings settings, IReadOnlyList<string> groups, IReadOnlyList<string>? assertedRoles)
    {
        var best = settings.DefaultRole;
        var bestRank = settings.RankOf(best);
        foreach (var mapping in settings.GroupRoleMappings)
        {
            if (!groups.Contains(mapping.Group, StringComparer.OrdinalIgnoreCase)) continue;
            var rank = settings.RankOf(mapping.Role);
            if (rank > bestRank) (best, bestRank) = (mapping.Role, rank);
        }
        foreach (var role in assertedRoles ?? [])
        {
            var rank = settings.RankOf(role);
            if (rank > bestRank) (best, bestRank) = (role, rank);
        }
        return best;
    }

    // settings.roleAttribute names an IdP attribute whose values are role names of the tenant.
    private static IReadOnlyList<string> RoleAttributeValues(TenantSettings settings, VerifiedIdentity identity)
    {
        if (settings.RoleAttribute is not { } name || identity.RawAttributes[name] is not { } node) return [];
        return node switch
        {
            JsonArray array => array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s : null)
                .Where(s => s is not null).Select(s => s!).ToList(),
            JsonValue value when value.TryGetValue<string>(out var single) => [single],
            _ => [],
        };
    }
}
