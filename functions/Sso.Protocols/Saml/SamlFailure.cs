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
/// attribute values) or key material. Values that came from the message (an audience, a
/// status message) are shortened and stripped of control characters, because the text ends
/// up in logs and in an <c>error_description</c>.
/// </summary>
public sealed record SamlFailure
{
    private const int MaxMessageLength = 1000;
    private const int MaxValueLength = 200;

    public SamlFailure(SamlFailureKind Kind, string Message, string? Expected = null, string? Actual = null)
    {
        this.Kind = Kind;
        this.Message = Clean(Message, MaxMessageLength);
        this.Expected = Expected is null ? null : Clean(Expected, MaxMessageLength);
        this.Actual = Actual is null ? null : Clean(Actual, MaxValueLength);
    }

    public SamlFailureKind Kind { get; }
    public string Message { get; }
    public string? Expected { get; }
    public string? Actual { get; }

    public override string ToString() => $"{Kind}: {Message}";

    internal static SamlFailure Structure(string message) => new(SamlFailureKind.UnexpectedStructure, message);

    internal static SamlFailure Mismatch(SamlFailureKind kind, string what, string expected, string? actual) =>
        new(kind,
            actual is null
                ? $"{what} is missing; expected '{expected}'."
                : $"{what} is '{Shown(actual)}'; expected '{expected}'.",
            expected, actual);

    /// <summary>A value from the message, fit to be quoted in a failure.</summary>
    internal static string Shown(string? value) => value is null ? "" : Clean(value, MaxValueLength);

    /// <summary>A failure the caller detects (the replay cache lives in storage, not here).</summary>
    public static SamlFailure Replayed(string assertionId) =>
        new(SamlFailureKind.Replayed,
            $"The assertion '{Shown(assertionId)}' was already used to sign in; each assertion is accepted once.",
            Actual: assertionId);

    private static string Clean(string value, int maxLength)
    {
        var cleaned = string.Create(Math.Min(value.Length, maxLength), value, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
        });
        return value.Length > maxLength ? cleaned + "…" : cleaned;
    }
}
