namespace Sso.Protocols.Oidc;

/// <summary>
/// Why an OpenID Provider's document, response or id_token was refused. The names are stable:
/// they appear in logs, in the <c>error_description</c> sent to the SaaS app and in tests.
/// </summary>
public enum OidcFailureKind
{
    // Discovery (OpenID Connect Discovery 1.0 §3, §4.3).
    DiscoveryMalformed,
    DiscoveryIssuerMismatch,
    DiscoveryEndpointInsecure,
    DiscoveryCodeFlowUnsupported,
    DiscoveryAuthMethodUnsupported,
    JwksMalformed,

    // Outbound calls to the IdP. IdpUnreachable is every network failure (refused address, closed
    // port, reset, timeout): the kind reaches sso.login events (data.failureKind), and an issuer
    // chosen through a setup link must not learn from it how the service's network looks.
    // IdpTimeout is no longer produced; it stays so stored events keep their name.
    IdpUnreachable,
    IdpTimeout,
    IdpResponseTooLarge,
    IdpHttpError,

    // The authorization response and the token response.
    IdpError,
    CallbackIssuerMismatch,
    TokenResponseMalformed,
    TokenEndpointError,

    // The id_token (OpenID Connect Core 1.0 §3.1.3.7).
    IdTokenMalformed,
    AlgorithmNotAllowed,
    UnknownSigningKey,
    SignatureInvalid,
    IssuerMismatch,
    EntraTenantNotAllowed,
    AudienceMismatch,
    AuthorizedPartyMismatch,
    Expired,
    NotYetValid,
    IssuedInFuture,
    NonceMismatch,
    SubjectMissing,
    HostedDomainNotAllowed,
    EmailNotVerified,

    // Step-up (Core §3.1.2.1 max_age and prompt=login, §2 auth_time).
    AuthTimeMissing,
    AuthenticationTooOld,

    // UserInfo (OpenID Connect Core 1.0 §5.3).
    UserInfoMalformed,
    UserInfoSubjectMismatch,
}

/// <summary>
/// A refused OIDC message: the kind, a sentence for the IT admin who has to fix the IdP
/// configuration, and the facts behind it. Never carries tokens, codes, secrets or e-mail addresses.
/// </summary>
public sealed record OidcFailure(OidcFailureKind Kind, string Message, string? Expected = null, string? Actual = null)
{
    public override string ToString() => $"{Kind}: {Message}";

    public static OidcFailure Of(OidcFailureKind kind, string message) => new(kind, message);

    public static OidcFailure Mismatch(OidcFailureKind kind, string what, string expected, string? actual) =>
        new(kind,
            actual is null
                ? $"{what} is missing; expected '{expected}'."
                : $"{what} is '{actual}'; expected '{expected}'.",
            expected, actual);
}
