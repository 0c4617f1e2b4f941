namespace Sso.Protocols.Oidc;

/// <summary>
/// Core §5.1: <c>email_verified</c> true means the IdP checked that the user controls the address.
/// An IdP that lets people register their own address (Auth0, Keycloak, Cognito, Okta with
/// self-service registration) asserts any address with <c>email_verified: false</c>; signing that
/// in would let anyone become the tenant's user with that address.
/// </summary>
public static class OidcEmailVerification
{
    /// <returns>Null when the sign-in may go on: the email is verified, absent (left to the sign-in
    /// policy), or the connection accepts unverified addresses.</returns>
    public static OidcFailure? Check(ValidatedIdToken token, bool allowUnverifiedEmail)
    {
        if (allowUnverifiedEmail || token.Email is null || token.EmailVerified) return null;
        return token.Claims["email_verified"] is null
            ? OidcFailure.Mismatch(OidcFailureKind.EmailNotVerified,
                "The IdP's 'email_verified' claim (set the connection's allowUnverifiedEmail if this IdP never sends it)", "true", null)
            : OidcFailure.Mismatch(OidcFailureKind.EmailNotVerified, "The IdP's 'email_verified' claim", "true",
                token.Claims["email_verified"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<bool>(out _) ? "false" : "not true");
    }
}
