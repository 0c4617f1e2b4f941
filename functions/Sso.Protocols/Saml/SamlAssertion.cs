using System.Security.Cryptography.X509Certificates;

namespace Sso.Protocols.Saml;

/// <summary>Everything the ACS endpoint knows and trusts when it validates one SAMLResponse.</summary>
public sealed record SamlValidationParameters
{
    /// <summary>The IdP signing certificates configured on the connection (several during a rollover).</summary>
    public required IReadOnlyList<X509Certificate2> IdpCertificates { get; init; }

    public required string IdpEntityId { get; init; }

    /// <summary>This connection's SP entity ID (its SP metadata URL).</summary>
    public required string SpEntityId { get; init; }

    /// <summary>This connection's ACS URL, exactly as published in the SP metadata.</summary>
    public required string AcsUrl { get; init; }

    /// <summary>The ID of the AuthnRequest that the RelayState points at; null for an unsolicited response.</summary>
    public string? ExpectedInResponseTo { get; init; }

    /// <summary>Accept an unsolicited (IdP-initiated) response when <see cref="ExpectedInResponseTo"/> is null.</summary>
    public bool AllowIdpInitiated { get; init; }

    public bool AllowSha1 { get; init; }

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(3);

    public required DateTimeOffset Now { get; init; }

    /// <summary>The SP encryption certificates with private keys, for encrypted assertions.</summary>
    public IReadOnlyList<X509Certificate2> DecryptionCertificates { get; init; } = [];

    /// <summary>See <see cref="SamlTrust.AllowedEncryptionAlgorithms"/>.</summary>
    public IReadOnlyCollection<string> AllowedEncryptionAlgorithms { get; init; } = SamlAlgorithms.GcmEncryption;
}

/// <summary>
/// The identity in a verified assertion. Every field was read from XML covered by a verified
/// signature. The caller keeps <see cref="Id"/> in its replay cache until <see cref="ReplayCacheUntil"/>.
/// </summary>
public sealed record SamlAssertion
{
    public required string Id { get; init; }
    public required string Issuer { get; init; }
    public required string NameId { get; init; }
    public string? NameIdFormat { get; init; }
    public string? SessionIndex { get; init; }
    public DateTimeOffset? AuthnInstant { get; init; }
    public DateTimeOffset? SessionNotOnOrAfter { get; init; }

    /// <summary>The earliest of the bearer confirmation's and the Conditions' NotOnOrAfter.</summary>
    public required DateTimeOffset NotOnOrAfter { get; init; }

    /// <summary>After this instant the assertion is refused anyway (NotOnOrAfter plus the clock skew).</summary>
    public required DateTimeOffset ReplayCacheUntil { get; init; }

    /// <summary>The AuthnRequest ID this answers, or null for an unsolicited response.</summary>
    public string? InResponseTo { get; init; }

    /// <summary>Attribute name → values, in document order; repeated Attribute elements are merged.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Attributes { get; init; }

    // NameID and attribute values are personal data; keep them out of logs that print records.
    public override string ToString() => $"SamlAssertion {{ Id = {Id}, Issuer = {Issuer} }}";
}
