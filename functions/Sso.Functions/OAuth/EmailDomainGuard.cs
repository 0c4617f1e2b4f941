using Sso.Functions.Connections;
using Sso.Functions.Tenants;

namespace Sso.Functions.OAuth;

/// <summary>How an asserted email's domain stands to the tenant whose IdP asserted it.</summary>
public enum EmailDomainStanding
{
    /// <summary>One of the tenant's domains (verified, or verification is not required).</summary>
    OfTheTenant,
    /// <summary>One of the tenant's domains, unverified while the tenant requires verification.</summary>
    OfTheTenantUnverified,
    /// <summary>A domain another tenant holds (and, if it requires verification, verified).</summary>
    OfAnotherTenant,
    /// <summary>Nobody's domain, or a claim that (unverified) claims no email.</summary>
    Outside,
}

/// <summary>
/// DESIGN §3.2 and issue #10: an IdP vouches only for the tenant's own addresses. The match is
/// exact: <c>eng.example.com</c> is not covered by <c>example.com</c>, because routing by
/// <c>login_hint</c> is exact too, and a subdomain may be run by someone else (a DNS TXT record at
/// <c>_sso-challenge.example.com</c> proves nothing about who hands out addresses under it). A
/// tenant lists each subdomain it uses. Guests (any other domain) need the connection's
/// <c>allowOutsideDomains</c>; a domain another tenant holds is refused even then, so one
/// customer's IdP can never sign in as another customer's user.
/// </summary>
public sealed class EmailDomainGuard(TenantStore tenants, ConnectionStore connections)
{
    /// <returns>The refusal code, or null when the email may sign in.</returns>
    public static string? Decide(EmailDomainStanding standing, bool allowOutsideDomains) => standing switch
    {
        EmailDomainStanding.OfTheTenant => null,
        EmailDomainStanding.OfAnotherTenant => SignInRefusals.EmailDomainNotAllowed,
        _ when allowOutsideDomains => null,
        EmailDomainStanding.OfTheTenantUnverified => SignInRefusals.EmailDomainNotVerified,
        _ => SignInRefusals.EmailOutsideTenantDomains,
    };

    /// <returns>A refusal code, or null. An email that is absent is left to <see cref="SignInPolicy"/> (email_missing).</returns>
    public Task<string?> CheckAsync(Tenant tenant, Connection connection, string? email, CancellationToken cancellationToken) =>
        CheckAsync(tenant, connection, email,
            EmailDomain(email) is { } domain ? tenants.FindClaimAsync(domain, cancellationToken) : Task.FromResult<DomainClaim?>(null),
            cancellationToken);

    /// <param name="claimOfDomain">The claim row of the email's <see cref="EmailDomain"/>, read once by a caller that needs it too.</param>
    public async Task<string?> CheckAsync(Tenant tenant, Connection connection, string? email, Task<DomainClaim?> claimOfDomain,
        CancellationToken cancellationToken)
    {
        // Issue 18.6: which IdP vouches for which addresses. A connection without its own list may
        // assert the tenant's domains only while it is the tenant's only enabled connection.
        var listed = ConnectionDomains.Listed(connection);
        if (listed is null
            && ConnectionDomains.AssertsNothing(connection, await connections.ListCachedAsync(tenant.Id, cancellationToken) ?? []))
            return SignInRefusals.ConnectionDomainsNotSet;
        if (string.IsNullOrWhiteSpace(email)) return null;
        if (DomainName.OfEmail(email.Trim()) is not { } domain) return SignInRefusals.EmailMissing;
        var standing = await StandingAsync(tenant, domain, await claimOfDomain, cancellationToken);
        if (Decide(standing, ConnectionSignInSettings.AllowsOutsideDomains(connection)) is { } refusal) return refusal;
        // The list narrows the tenant's own domains; guests (allowOutsideDomains) are no domain of the tenant's.
        if (listed is not null && standing is EmailDomainStanding.OfTheTenant or EmailDomainStanding.OfTheTenantUnverified
            && !listed.Contains(domain, StringComparer.Ordinal))
            return SignInRefusals.EmailDomainNotAssertedByConnection;
        return null;
    }

    /// <summary>The domain of an email as the guard judges it (null for no email or no domain).</summary>
    public static string? EmailDomain(string? email) => string.IsNullOrWhiteSpace(email) ? null : DomainName.OfEmail(email.Trim());

    private async Task<EmailDomainStanding> StandingAsync(Tenant tenant, string domain, DomainClaim? claimOfDomain, CancellationToken cancellationToken)
    {
        if (claimOfDomain is not { } claim) return EmailDomainStanding.Outside;
        if (claim.TenantId == tenant.Id)
        {
            // The claim row goes before the tenant row changes (TenantStore order): only a domain the tenant lists is its own.
            if (!tenant.Domains.Contains(domain, StringComparer.Ordinal)) return EmailDomainStanding.Outside;
            return tenant.Settings.RequireVerifiedDomains == true && !claim.IsVerified
                ? EmailDomainStanding.OfTheTenantUnverified
                : EmailDomainStanding.OfTheTenant;
        }
        // Another tenant's claim counts as that tenant's domain exactly when it would route sign-ins there.
        return await tenants.FindSignInTenantAsync(domain, cancellationToken) is { } owner && owner.Id != tenant.Id
            ? EmailDomainStanding.OfAnotherTenant
            : EmailDomainStanding.Outside;
    }
}
