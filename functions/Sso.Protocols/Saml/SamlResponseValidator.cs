using System.Globalization;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>
/// Validates a SAML 2.0 Response received at the ACS (Web Browser SSO profile, profiles §4.1).
/// Verify, then read: identity data comes only from the assertion that a verified signature
/// covers. One method per rule, in the order of the specifications. Replay (one use per
/// assertion ID) is the caller's, because the cache lives in storage.
/// </summary>
public static class SamlResponseValidator
{
    public static Result<SamlAssertion, SamlFailure> Validate(string? samlResponse, SamlValidationParameters parameters)
    {
        var document = SamlResponseReader.Read(samlResponse);
        return document.IsSuccess ? Validate(document.Value, parameters) : document.Error;
    }

    /// <param name="unverifiedXml">A document read by <see cref="SamlResponseReader"/> (DTDs off, whitespace kept).</param>
    public static Result<SamlAssertion, SamlFailure> Validate(XmlDocument unverifiedXml, SamlValidationParameters parameters)
    {
        if (unverifiedXml.DocumentElement is not { } unverifiedResponse
            || unverifiedResponse.LocalName != "Response" || unverifiedResponse.NamespaceURI != SamlNamespaces.Protocol)
            return SamlFailure.Structure(
                $"The root element is <{unverifiedXml.DocumentElement?.Name}>; a SAML 2.0 <samlp:Response> is expected.");

        // Read before verifying, and only to refuse: an IdP error response is often unsigned
        // and carries no assertion, and the admin needs its status, not "signature missing".
        if (CheckVersion(unverifiedResponse, "Response") is { } badVersion) return badVersion;
        if (CheckStatus(unverifiedResponse) is { } notSuccess) return notSuccess;

        var verified = SamlSignatureVerifier.Verify(unverifiedXml, new SamlTrust
        {
            IdpCertificates = parameters.IdpCertificates,
            AllowSha1 = parameters.AllowSha1,
            DecryptionCertificates = parameters.DecryptionCertificates,
            AllowedEncryptionAlgorithms = parameters.AllowedEncryptionAlgorithms,
        });
        if (!verified.IsSuccess) return verified.Error;
        var response = verified.Value.Response;
        var assertion = verified.Value.Assertion;

        if (CheckResponseIssuer(response, verified.Value, parameters) is { } badResponseIssuer) return badResponseIssuer;
        if (CheckDestination(response, verified.Value.ResponseSigned, parameters) is { } badDestination) return badDestination;
        if (CheckResponseInResponseTo(response, parameters) is { } badInResponseTo) return badInResponseTo;

        if (CheckVersion(assertion, "Assertion") is { } badAssertionVersion) return badAssertionVersion;
        if (CheckAssertionShape(assertion) is { } badAssertionShape) return badAssertionShape;
        var assertionId = SecureXml.Attribute(assertion, "ID");
        if (string.IsNullOrEmpty(assertionId)) return SamlFailure.Structure("The Assertion has no ID attribute.");
        if (CheckIssueInstant(assertion, parameters) is { } issuedLater) return issuedLater;
        var issuer = CheckAssertionIssuer(assertion, parameters);
        if (!issuer.IsSuccess) return issuer.Error;
        var subject = ReadSubject(assertion);
        if (!subject.IsSuccess) return subject.Error;
        var confirmation = CheckBearerConfirmation(subject.Value.Subject, parameters);
        if (!confirmation.IsSuccess) return confirmation.Error;
        var conditionsNotOnOrAfter = CheckConditions(assertion, parameters);
        if (!conditionsNotOnOrAfter.IsSuccess) return conditionsNotOnOrAfter.Error;
        var authn = CheckAuthnStatement(assertion, parameters);
        if (!authn.IsSuccess) return authn.Error;
        var attributes = ReadAttributes(assertion);
        if (!attributes.IsSuccess) return attributes.Error;

        var notOnOrAfter = conditionsNotOnOrAfter.Value is { } conditionsLimit && conditionsLimit < confirmation.Value
            ? conditionsLimit
            : confirmation.Value;
        return new SamlAssertion
        {
            Id = assertionId,
            Issuer = issuer.Value,
            NameId = subject.Value.NameId,
            NameIdFormat = subject.Value.Format,
            SessionIndex = authn.Value.SessionIndex,
            AuthnInstant = authn.Value.AuthnInstant,
            SessionNotOnOrAfter = authn.Value.SessionNotOnOrAfter,
            NotOnOrAfter = notOnOrAfter,
            ReplayCacheUntil = notOnOrAfter + parameters.ClockSkew,
            InResponseTo = parameters.ExpectedInResponseTo,
            Attributes = attributes.Value,
        };
    }

    // Core §3.2.1 and §2.3.3: Version is "2.0" on every request, response and assertion.
    private static SamlFailure? CheckVersion(XmlElement element, string what) =>
        SecureXml.Attribute(element, "Version") is "2.0"
            ? null
            : SamlFailure.Structure($"The {what} has Version '{SecureXml.Attribute(element, "Version")}'; SAML 2.0 is expected.");

    /// <summary>
    /// Core §2.3.3: Issuer, Signature?, Subject?, Conditions?, Advice?, then statements. An
    /// element out of that order, or one this service does not understand (a generic
    /// xsi:typed Statement), is reported rather than skipped.
    /// </summary>
    private static SamlFailure? CheckAssertionShape(XmlElement assertion)
    {
        string[] order = ["Issuer", "Signature", "Subject", "Conditions", "Advice", "Statement"];
        var position = -1;
        foreach (var child in SecureXml.ChildElements(assertion))
        {
            var name = child.NamespaceURI switch
            {
                SamlNamespaces.XmlDsig when child.LocalName == "Signature" => "Signature",
                SamlNamespaces.Assertion when child.LocalName is "AuthnStatement" or "AttributeStatement" or "AuthzDecisionStatement" => "Statement",
                SamlNamespaces.Assertion when child.LocalName is "Issuer" or "Subject" or "Conditions" or "Advice" => child.LocalName,
                _ => null,
            };
            if (name is null)
                return SamlFailure.Structure($"The Assertion contains <{child.Name}>, which this service does not understand.");
            var index = Array.IndexOf(order, name);
            if (index < position || (index == position && name != "Statement"))
                return SamlFailure.Structure($"The Assertion has <{child.Name}> out of place or more than once.");
            position = index;
        }
        return null;
    }

    // Core §3.2.2.2: only a top-level status code of Success means the IdP authenticated anyone.
    private static SamlFailure? CheckStatus(XmlElement unverifiedResponse)
    {
        var status = SecureXml.ChildElement(unverifiedResponse, SamlNamespaces.Protocol, "Status");
        var code = status is null ? null : SecureXml.ChildElement(status, SamlNamespaces.Protocol, "StatusCode");
        var value = code is null ? null : SecureXml.Attribute(code, "Value");
        if (value == SamlUris.StatusSuccess) return null;

        var second = code is null ? null : SecureXml.ChildElement(code, SamlNamespaces.Protocol, "StatusCode");
        var secondValue = second is null ? null : SecureXml.Attribute(second, "Value");
        var message = status is null ? null : SecureXml.ChildElement(status, SamlNamespaces.Protocol, "StatusMessage")?.InnerText;
        var actual = secondValue is null ? value : $"{value} / {secondValue}";
        var said = string.IsNullOrWhiteSpace(message) ? "" : $" The IdP said: \"{SamlFailure.Shown(message.Trim())}\".";
        return new SamlFailure(SamlFailureKind.StatusNotSuccess,
            $"The IdP answered with status '{(actual is null ? "(none)" : SamlFailure.Shown(actual))}' instead of Success; the sign-in failed at the IdP.{said}",
            SamlUris.StatusSuccess, actual);
    }

    // Core §3.2.2: Issuer, when present, names the IdP; profiles §4.1.4.2: it MUST be present
    // when the Response is signed or its assertion encrypted.
    private static SamlFailure? CheckResponseIssuer(XmlElement response, VerifiedSamlResponse verified, SamlValidationParameters parameters)
    {
        var issuer = SecureXml.ChildElement(response, SamlNamespaces.Assertion, "Issuer");
        if (issuer is null)
            return verified.ResponseSigned || verified.WasEncrypted
                ? SamlFailure.Mismatch(SamlFailureKind.IssuerMismatch, "The Response Issuer", parameters.IdpEntityId, null)
                : null;
        var checkedIssuer = CheckIssuer(issuer, "The Response Issuer", parameters.IdpEntityId);
        return checkedIssuer.IsSuccess ? null : checkedIssuer.Error;
    }

    // Core §3.2.2: Destination, when present, is where the IdP meant to send the Response;
    // bindings §3.5.5.2: a signed Response MUST carry it.
    private static SamlFailure? CheckDestination(XmlElement response, bool responseSigned, SamlValidationParameters parameters)
    {
        var destination = SecureXml.Attribute(response, "Destination");
        if (destination is null)
            return responseSigned
                ? SamlFailure.Mismatch(SamlFailureKind.DestinationMismatch, "The signed Response's Destination", parameters.AcsUrl, null)
                : null;
        return destination == parameters.AcsUrl
            ? null
            : SamlFailure.Mismatch(SamlFailureKind.DestinationMismatch, "The Response Destination", parameters.AcsUrl, destination);
    }

    // Core §3.2.2: InResponseTo on the Response is optional, but when present it names our
    // AuthnRequest (profiles §4.1.4.3 makes the signed bearer confirmation's copy the binding
    // one); profiles §4.1.5: an unsolicited Response has none and is accepted only where
    // IdP-initiated sign-in is on.
    private static SamlFailure? CheckResponseInResponseTo(XmlElement response, SamlValidationParameters parameters)
    {
        var inResponseTo = SecureXml.Attribute(response, "InResponseTo");
        if (inResponseTo is null && parameters.ExpectedInResponseTo is not null) return null;
        return CheckInResponseTo(inResponseTo, "The Response InResponseTo", parameters);
    }

    private static SamlFailure? CheckInResponseTo(string? inResponseTo, string what, SamlValidationParameters parameters)
    {
        if (parameters.ExpectedInResponseTo is { } expected)
            return inResponseTo == expected
                ? null
                : SamlFailure.Mismatch(SamlFailureKind.InResponseToMismatch, what, expected, inResponseTo);
        if (!parameters.AllowIdpInitiated)
            return new SamlFailure(SamlFailureKind.UnsolicitedResponse,
                "The response was not requested by this service (IdP-initiated sign-in), and IdP-initiated sign-in is off for this connection; " +
                "start the sign-in from the application, or enable IdP-initiated sign-in on the connection.");
        return inResponseTo is null
            ? null
            : new SamlFailure(SamlFailureKind.InResponseToMismatch,
                $"{what} is '{SamlFailure.Shown(inResponseTo)}', but no sign-in request from this service is pending for it.", Actual: inResponseTo);
    }

    // Core §2.3.3: IssueInstant is required; an assertion issued in the future (beyond the
    // skew) comes from a clock that cannot be trusted for the other time checks either.
    private static SamlFailure? CheckIssueInstant(XmlElement assertion, SamlValidationParameters parameters)
    {
        var issued = ReadInstant(assertion, "IssueInstant", "Assertion");
        if (!issued.IsSuccess) return issued.Error;
        if (issued.Value is not { } instant) return SamlFailure.Structure("The Assertion has no IssueInstant.");
        return IsNotYetValid(instant, parameters);
    }

    // Core §2.3.3 and profiles §4.1.4.2: the assertion's Issuer MUST be present and be the
    // IdP's entity ID, with Format omitted or entity.
    private static Result<string, SamlFailure> CheckAssertionIssuer(XmlElement assertion, SamlValidationParameters parameters)
    {
        var issuer = SecureXml.ChildElement(assertion, SamlNamespaces.Assertion, "Issuer");
        if (issuer is null)
            return SamlFailure.Mismatch(SamlFailureKind.IssuerMismatch, "The Assertion Issuer", parameters.IdpEntityId, null);
        return CheckIssuer(issuer, "The Assertion Issuer", parameters.IdpEntityId);
    }

    private static Result<string, SamlFailure> CheckIssuer(XmlElement issuer, string what, string expected)
    {
        var format = SecureXml.Attribute(issuer, "Format");
        if (format is not null && format != SamlUris.EntityNameIdFormat)
            return SamlFailure.Structure($"{what} has Format '{SamlFailure.Shown(format)}'; an entity identifier is expected.");
        var value = SecureXml.FullText(issuer, what);
        if (!value.IsSuccess) return value.Error;
        var actual = value.Value.Trim();
        return actual == expected ? actual : SamlFailure.Mismatch(SamlFailureKind.IssuerMismatch, what, expected, actual);
    }

    // Core §2.4.1 and profiles §4.1.4.2: the Subject names the principal with a NameID.
    private static Result<(XmlElement Subject, string NameId, string? Format), SamlFailure> ReadSubject(XmlElement assertion)
    {
        var subjects = SecureXml.ChildElements(assertion, SamlNamespaces.Assertion, "Subject").ToList();
        if (subjects.Count != 1)
            return SamlFailure.Structure($"The Assertion has {subjects.Count} Subject elements; exactly one is expected.");
        var subject = subjects[0];
        if (SecureXml.ChildElement(subject, SamlNamespaces.Assertion, "EncryptedID") is not null)
            return SamlFailure.Structure("The Subject carries an EncryptedID; send a plain NameID (encrypt the whole assertion instead).");
        var nameIds = SecureXml.ChildElements(subject, SamlNamespaces.Assertion, "NameID").ToList();
        if (nameIds.Count != 1)
            return SamlFailure.Structure($"The Subject has {nameIds.Count} NameID elements; exactly one is expected.");
        var nameId = SecureXml.FullText(nameIds[0], "The NameID");
        if (!nameId.IsSuccess) return nameId.Error;
        var value = nameId.Value.Trim();
        if (value.Length == 0) return SamlFailure.Structure("The NameID is empty.");
        return (subject, value, SecureXml.Attribute(nameIds[0], "Format"));
    }

    /// <summary>
    /// Profiles §4.1.4.2–4.1.4.3: at least one bearer SubjectConfirmation whose data names our
    /// ACS as Recipient, is still within NotOnOrAfter, and answers our AuthnRequest. Returns that
    /// NotOnOrAfter. When no bearer confirmation passes, the first one's failure is reported.
    /// </summary>
    private static Result<DateTimeOffset, SamlFailure> CheckBearerConfirmation(XmlElement subject, SamlValidationParameters parameters)
    {
        SamlFailure? firstFailure = null;
        foreach (var confirmation in SecureXml.ChildElements(subject, SamlNamespaces.Assertion, "SubjectConfirmation"))
        {
            if (SecureXml.Attribute(confirmation, "Method") != SamlUris.BearerConfirmation) continue;
            var checkedOne = CheckOneBearerConfirmation(confirmation, parameters);
            if (checkedOne.IsSuccess) return checkedOne;
            firstFailure ??= checkedOne.Error;
        }
        return firstFailure ?? new SamlFailure(SamlFailureKind.SubjectConfirmationMissing,
            "The Subject has no bearer SubjectConfirmation; the Web Browser SSO profile requires one.",
            SamlUris.BearerConfirmation);
    }

    private static Result<DateTimeOffset, SamlFailure> CheckOneBearerConfirmation(XmlElement confirmation, SamlValidationParameters parameters)
    {
        var data = SecureXml.ChildElement(confirmation, SamlNamespaces.Assertion, "SubjectConfirmationData");
        if (data is null)
            return new SamlFailure(SamlFailureKind.SubjectConfirmationMissing,
                "The bearer SubjectConfirmation has no SubjectConfirmationData (Recipient, NotOnOrAfter).");

        // Profiles §4.1.4.3: Recipient is our ACS URL.
        var recipient = SecureXml.Attribute(data, "Recipient");
        if (recipient != parameters.AcsUrl)
            return SamlFailure.Mismatch(SamlFailureKind.RecipientMismatch, "The SubjectConfirmationData Recipient", parameters.AcsUrl, recipient);

        // Profiles §4.1.4.2: NotOnOrAfter limits the window in which the assertion may be delivered.
        var notOnOrAfter = ReadInstant(data, "NotOnOrAfter", "SubjectConfirmationData");
        if (!notOnOrAfter.IsSuccess) return notOnOrAfter.Error;
        if (notOnOrAfter.Value is not { } limit)
            return new SamlFailure(SamlFailureKind.SubjectConfirmationMissing,
                "The bearer SubjectConfirmationData has no NotOnOrAfter; the IdP must limit how long the assertion can be delivered.");
        if (IsExpired(limit, parameters) is { } expired) return expired;

        // Core §2.4.1.2: NotBefore, when an IdP sends it anyway, is honoured with the skew.
        var notBefore = ReadInstant(data, "NotBefore", "SubjectConfirmationData");
        if (!notBefore.IsSuccess) return notBefore.Error;
        if (notBefore.Value is { } start && IsNotYetValid(start, parameters) is { } early) return early;

        // Profiles §4.1.4.3: InResponseTo is our AuthnRequest's ID; absent when unsolicited (§4.1.5).
        if (CheckInResponseTo(SecureXml.Attribute(data, "InResponseTo"), "The SubjectConfirmationData InResponseTo", parameters) is { } bad)
            return bad;
        return limit;
    }

    /// <summary>
    /// Core §2.5.1: NotBefore and NotOnOrAfter bound the assertion's validity (with the clock
    /// skew); §2.5.1.4 and profiles §4.1.4.2: an AudienceRestriction naming our entity ID is
    /// required, and every AudienceRestriction present must name it. A condition we do not
    /// understand makes the assertion invalid (§2.5.1.1). Returns NotOnOrAfter, if any.
    /// </summary>
    private static Result<DateTimeOffset?, SamlFailure> CheckConditions(XmlElement assertion, SamlValidationParameters parameters)
    {
        var all = SecureXml.ChildElements(assertion, SamlNamespaces.Assertion, "Conditions").ToList();
        if (all.Count > 1) return SamlFailure.Structure("The Assertion has more than one Conditions element.");
        if (all.Count == 0)
            return new SamlFailure(SamlFailureKind.AudienceMismatch,
                $"The Assertion has no Conditions, so no AudienceRestriction; the IdP must restrict it to '{parameters.SpEntityId}'.",
                parameters.SpEntityId);
        var conditions = all[0];

        var notBefore = ReadInstant(conditions, "NotBefore", "Conditions");
        if (!notBefore.IsSuccess) return notBefore.Error;
        if (notBefore.Value is { } start && IsNotYetValid(start, parameters) is { } early) return early;

        var notOnOrAfter = ReadInstant(conditions, "NotOnOrAfter", "Conditions");
        if (!notOnOrAfter.IsSuccess) return notOnOrAfter.Error;
        if (notOnOrAfter.Value is { } limit && IsExpired(limit, parameters) is { } expired) return expired;

        if (CheckAudience(conditions, parameters) is { } badAudience) return badAudience;
        return notOnOrAfter.Value;
    }

    private static SamlFailure? CheckAudience(XmlElement conditions, SamlValidationParameters parameters)
    {
        var restrictions = 0;
        foreach (var condition in SecureXml.ChildElements(conditions))
        {
            if (condition.NamespaceURI != SamlNamespaces.Assertion)
                return SamlFailure.Structure($"The Conditions contain <{condition.Name}>, which this service does not understand.");
            switch (condition.LocalName)
            {
                case "AudienceRestriction":
                    restrictions++;
                    var audiences = new List<string>();
                    foreach (var audience in SecureXml.ChildElements(condition, SamlNamespaces.Assertion, "Audience"))
                    {
                        var text = SecureXml.FullText(audience, "An Audience");
                        if (!text.IsSuccess) return text.Error;
                        audiences.Add(text.Value.Trim());
                    }
                    if (!audiences.Contains(parameters.SpEntityId, StringComparer.Ordinal))
                        return SamlFailure.Mismatch(SamlFailureKind.AudienceMismatch, "The Audience",
                            parameters.SpEntityId, audiences.Count == 0 ? null : string.Join(", ", audiences));
                    break;
                // OneTimeUse (§2.5.1.5) is what the caller's replay cache enforces for every
                // assertion; ProxyRestriction (§2.5.1.6) limits onward assertions we never issue.
                case "OneTimeUse":
                case "ProxyRestriction":
                    break;
                default:
                    return SamlFailure.Structure($"The Conditions contain <{condition.Name}>, which this service does not understand.");
            }
        }
        return restrictions > 0
            ? null
            : new SamlFailure(SamlFailureKind.AudienceMismatch,
                $"The Assertion has no AudienceRestriction; the IdP must restrict it to '{parameters.SpEntityId}'.",
                parameters.SpEntityId);
    }

    // Profiles §4.1.4.2: at least one AuthnStatement; core §2.7.2: past SessionNotOnOrAfter
    // the IdP no longer vouches for the session.
    private static Result<(string? SessionIndex, DateTimeOffset? AuthnInstant, DateTimeOffset? SessionNotOnOrAfter), SamlFailure>
        CheckAuthnStatement(XmlElement assertion, SamlValidationParameters parameters)
    {
        var statement = SecureXml.ChildElement(assertion, SamlNamespaces.Assertion, "AuthnStatement");
        if (statement is null)
            return SamlFailure.Structure("The Assertion has no AuthnStatement; the Web Browser SSO profile requires one.");
        var authnInstant = ReadInstant(statement, "AuthnInstant", "AuthnStatement");
        if (!authnInstant.IsSuccess) return authnInstant.Error;
        var sessionEnd = ReadInstant(statement, "SessionNotOnOrAfter", "AuthnStatement");
        if (!sessionEnd.IsSuccess) return sessionEnd.Error;
        if (sessionEnd.Value is { } end && parameters.Now - parameters.ClockSkew >= end)
            return new SamlFailure(SamlFailureKind.SessionExpired,
                $"The IdP session ended at {Format(end)} (SessionNotOnOrAfter); it is now {Format(parameters.Now)}. Sign in again at the IdP.",
                Format(end), Format(parameters.Now));
        return (SecureXml.Attribute(statement, "SessionIndex"), authnInstant.Value, sessionEnd.Value);
    }

    // Core §2.7.3: attributes by Name; the values are read as their whole text.
    private static Result<IReadOnlyDictionary<string, IReadOnlyList<string>>, SamlFailure> ReadAttributes(XmlElement assertion)
    {
        var attributes = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var statement in SecureXml.ChildElements(assertion, SamlNamespaces.Assertion, "AttributeStatement"))
        {
            foreach (var element in SecureXml.ChildElements(statement))
            {
                if (element.NamespaceURI != SamlNamespaces.Assertion || element.LocalName != "Attribute")
                    return SamlFailure.Structure(element.LocalName == "EncryptedAttribute"
                        ? "The AttributeStatement carries an EncryptedAttribute; encrypt the whole assertion instead."
                        : $"The AttributeStatement contains an unexpected <{element.Name}>.");
                var name = SecureXml.Attribute(element, "Name");
                if (string.IsNullOrEmpty(name)) return SamlFailure.Structure("An Attribute has no Name.");
                if (!attributes.TryGetValue(name, out var values)) attributes[name] = values = [];
                foreach (var value in SecureXml.ChildElements(element, SamlNamespaces.Assertion, "AttributeValue"))
                {
                    if (value.GetAttribute("nil", SamlNamespaces.Xsi) is "true" or "1") continue;
                    var text = SecureXml.FullText(value, $"A value of the attribute '{name}'");
                    if (!text.IsSuccess) return text.Error;
                    values.Add(text.Value);
                }
            }
        }
        return attributes.ToDictionary(a => a.Key, a => (IReadOnlyList<string>)a.Value, StringComparer.Ordinal);
    }

    private static SamlFailure? IsExpired(DateTimeOffset notOnOrAfter, SamlValidationParameters parameters) =>
        parameters.Now - parameters.ClockSkew >= notOnOrAfter
            ? new SamlFailure(SamlFailureKind.Expired,
                $"The assertion expired at {Format(notOnOrAfter)}; it is now {Format(parameters.Now)} " +
                $"(allowed clock skew {parameters.ClockSkew.TotalSeconds:0} s). Check the IdP's clock, or sign in again.",
                Format(notOnOrAfter), Format(parameters.Now))
            : null;

    private static SamlFailure? IsNotYetValid(DateTimeOffset notBefore, SamlValidationParameters parameters) =>
        parameters.Now + parameters.ClockSkew < notBefore
            ? new SamlFailure(SamlFailureKind.NotYetValid,
                $"The assertion is valid only from {Format(notBefore)}; it is now {Format(parameters.Now)} " +
                $"(allowed clock skew {parameters.ClockSkew.TotalSeconds:0} s). Check the IdP's clock.",
                Format(notBefore), Format(parameters.Now))
            : null;

    // Core §1.3.3: times are xs:dateTime in UTC.
    private static Result<DateTimeOffset?, SamlFailure> ReadInstant(XmlElement element, string attribute, string what)
    {
        if (SecureXml.Attribute(element, attribute) is not { } value) return (DateTimeOffset?)null;
        var trimmed = value.Trim();
        var hasZone = trimmed.EndsWith('Z') || (trimmed.Length > 6 && trimmed[^6] is '+' or '-' && trimmed[^3] == ':');
        if (hasZone)
        {
            try { return (DateTimeOffset?)XmlConvert.ToDateTimeOffset(trimmed).ToUniversalTime(); }
            catch (FormatException) { }
        }
        return SamlFailure.Structure($"The {what} {attribute} '{Truncate(value, 40)}' is not a UTC xs:dateTime.");
    }

    private static string Format(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length] + "…";
}
