using Sso.Functions.OAuth;
using Sso.Functions.Oidc;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// What to do about a refused sign-in, per documented <c>error_description</c> code (README,
/// "Sign-in guards"). One place, so the console never shows a code without advice; a test checks
/// that every code the sign-in can emit has an entry.
/// </summary>
public static class RefusalGuidance
{
    public static readonly IReadOnlyDictionary<string, string> ByCode = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [SignInRefusals.IdpResponseRejected] =
            "The IdP's answer failed validation. The failure kind names the check (audience, signature, time, replay): compare the IdP's settings with the connection's, or refresh its metadata if the IdP rotated its certificate.",
        [OidcRefusals.IdpTenantMismatch] =
            "A genuine token from another organisation. Set the connection's entraTenantIds or googleHostedDomain to the customer's own tenant or Workspace domain.",
        [OidcRefusals.EmailNotVerified] =
            "The IdP did not vouch for the address. For an IdP that hands out the addresses itself (Entra ID), set allowUnverifiedEmail: true on the connection; otherwise the user must verify the address at the IdP.",
        [OidcRefusals.IdpError] =
            "The IdP answered with an error, often the user cancelling or lacking access to the app there. Check the app's assignment at the IdP.",
        [OidcRefusals.IdpUnavailable] =
            "The IdP's discovery, JWKS or token endpoint did not answer in time or answered garbage. Check the issuer URL and the IdP's status; the user can retry.",
        [SignInRefusals.StaleAuthentication] =
            "The app asked for a fresh sign-in (prompt=login or max_age) and the IdP answered with an older one. Configure the IdP to honour forced re-authentication.",
        [SignInRefusals.SignInExpired] =
            "The user took too long at the IdP, or used the back button. Nothing to fix: start the sign-in again.",
        [SignInRefusals.ConnectionUnavailable] =
            "The tenant or connection was deleted while the user was at the IdP. Point the user at the tenant's current connection.",
        [SignInRefusals.EmailMissing] =
            "The IdP sent no usable email. Map the email (SAML NameID or email attribute; OIDC email claim) in the IdP's app settings.",
        [SignInRefusals.EmailDomainNotAllowed] =
            "The email's domain belongs to another tenant. Check that the user signed in with the right organisation's IdP.",
        [SignInRefusals.EmailDomainNotVerified] =
            "The domain is the tenant's but unverified while requireVerifiedDomains is on. Publish the domain's TXT record and press Verify, or turn the setting off.",
        [SignInRefusals.EmailOutsideTenantDomains] =
            "The email's domain is none of the tenant's. Add the domain to the tenant, or set allowOutsideDomains on the connection for guest users.",
        [SignInRefusals.EmailDomainNotAssertedByConnection] =
            "The domain is the tenant's but not in this connection's domains list. Add it to the connection's domains, or sign in through the connection that lists it.",
        [SignInRefusals.ConnectionDomainsNotSet] =
            "The tenant has several enabled connections and this one lists no domains. Give each connection its domains list.",
        [SignInRefusals.ConnectionDisabled] =
            "The connection is disabled (its setup link was revoked before an admin confirmed it). Confirm or recreate the connection.",
        [SignInRefusals.UserDeprovisioned] =
            "The directory deleted this user. If that is wrong, reassign the user to the app in the IdP so SCIM provisions them again.",
        [SignInRefusals.UserSuspended] =
            "The directory marked this user inactive. Reactivate the user in the IdP.",
        [SignInRefusals.UserNotProvisioned] =
            "jitProvisioning is off and the directory has no such user. Assign the user to the app in the IdP (SCIM will provision them), or turn jitProvisioning on.",
    };

    /// <summary>The advice for <paramref name="code"/>, or null for a code without any (such as a SCIM error type).</summary>
    public static string? For(string? code) => code is not null && ByCode.TryGetValue(code, out var advice) ? advice : null;
}
