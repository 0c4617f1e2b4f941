namespace Sso.Protocols.Saml;

/// <summary>
/// Why a SAML message was refused. The names are stable: they appear in logs, in the
/// <c>error_description</c> sent to the SaaS app and in tests.
/// </summary>
public enum SamlFailureKind
{
    MalformedXml,
    DtdProhibited,
    TooLarge,
    UnexpectedStructure,
    DuplicateId,
    SignatureMissing,
    SignatureInvalid,
    UntrustedCertificate,
    WeakAlgorithm,
    UnsupportedAlgorithm,
    DecryptionFailed,
    StatusNotSuccess,
    IssuerMismatch,
    DestinationMismatch,
    InResponseToMismatch,
    UnsolicitedResponse,
    SubjectConfirmationMissing,
    RecipientMismatch,
    AudienceMismatch,
    Expired,
    NotYetValid,
    SessionExpired,
    Replayed,
    NoIdpSsoDescriptor,
    NoSigningCertificate,
}

/// <summary>
/// A refused SAML message: the kind, a sentence for the IT admin who has to fix the IdP
/// configuration, and the facts behind it. Never carries assertion content (NameID,
/// attribute values) or key material.
/// </summary>
public sealed record SamlFailure(SamlFailureKind Kind, string Message, string? Expected = null, string? Actual = null)
{
    public override string ToString() => $"{Kind}: {Message}";

    internal static SamlFailure Structure(string message) => new(SamlFailureKind.UnexpectedStructure, message);

    internal static SamlFailure Mismatch(SamlFailureKind kind, string what, string expected, string? actual) =>
        new(kind,
            actual is null
                ? $"{what} is missing; expected '{expected}'."
                : $"{what} is '{actual}'; expected '{expected}'.",
            expected, actual);

    /// <summary>A failure the caller detects (the replay cache lives in storage, not here).</summary>
    public static SamlFailure Replayed(string assertionId) =>
        new(SamlFailureKind.Replayed,
            $"The assertion '{assertionId}' was already used to sign in; each assertion is accepted once.",
            Actual: assertionId);
}
