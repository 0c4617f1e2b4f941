using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>A LogoutRequest (core §3.7.1), sent by us or received from the IdP.</summary>
public sealed record LogoutRequest
{
    public required string Id { get; init; }
    public required DateTimeOffset IssueInstant { get; init; }
    public required string Issuer { get; init; }
    public required string Destination { get; init; }
    public required string NameId { get; init; }
    public string? NameIdFormat { get; init; }

    /// <summary>Core §3.7.1: none means every session of the principal at the sender.</summary>
    public IReadOnlyList<string> SessionIndexes { get; init; } = [];

    public DateTimeOffset? NotOnOrAfter { get; init; }

    /// <summary>After this instant the request is refused anyway; the caller keeps its ID in a replay cache until then.</summary>
    public DateTimeOffset? ReplayCacheUntil { get; init; }

    public override string ToString() => $"LogoutRequest {{ Id = {Id}, Issuer = {Issuer} }}";
}

/// <summary>A LogoutResponse (core §3.7.2, a StatusResponseType).</summary>
public sealed record LogoutResponse
{
    public required string Id { get; init; }
    public required DateTimeOffset IssueInstant { get; init; }
    public required string Issuer { get; init; }
    public required string Destination { get; init; }
    public required string InResponseTo { get; init; }
    public string StatusCode { get; init; } = SamlUris.StatusSuccess;

    public bool IsSuccess => StatusCode == SamlUris.StatusSuccess;
}

/// <summary>
/// Writes our LogoutRequests and LogoutResponses (Single Logout profile, profiles §4.4) for the
/// HTTP-Redirect binding (signed over the query string) and the HTTP-POST binding (enveloped
/// signature). Logout messages are always signed: profiles §4.4.4.1 and §4.4.4.2 require it.
/// </summary>
public static class SamlLogoutWriter
{
    public static string WriteXml(LogoutRequest request) => BuildRequest(request).OuterXml;

    public static string WriteXml(LogoutResponse response) => BuildResponse(response).OuterXml;

    public static Uri WriteRedirectUrl(LogoutRequest request, string? relayState, X509Certificate2 signingCertificate) =>
        SamlRedirectBinding.WriteUrl(request.Destination, SamlRedirectBinding.RequestParameter, WriteXml(request), relayState,
            signingCertificate);

    public static Uri WriteRedirectUrl(LogoutResponse response, string? relayState, X509Certificate2 signingCertificate) =>
        SamlRedirectBinding.WriteUrl(response.Destination, SamlRedirectBinding.ResponseParameter, WriteXml(response), relayState,
            signingCertificate);

    public static string WritePostForm(LogoutRequest request, string? relayState, X509Certificate2 signingCertificate) =>
        PostForm(request.Destination, SamlRedirectBinding.RequestParameter, BuildRequest(request), relayState, signingCertificate);

    public static string WritePostForm(LogoutResponse response, string? relayState, X509Certificate2 signingCertificate) =>
        PostForm(response.Destination, SamlRedirectBinding.ResponseParameter, BuildResponse(response), relayState, signingCertificate);

    private static string PostForm(string destination, string parameter, XmlDocument document, string? relayState,
        X509Certificate2 signingCertificate)
    {
        if (relayState is not null && Encoding.UTF8.GetByteCount(relayState) > AuthnRequestWriter.MaxRelayStateBytes)
            throw new ArgumentException($"RelayState is limited to {AuthnRequestWriter.MaxRelayStateBytes} bytes (bindings §3.5.3).", nameof(relayState));
        SamlXmlSigner.SignEnveloped(document.DocumentElement!, signingCertificate, SamlAlgorithms.RsaSha256);
        var message = Convert.ToBase64String(Encoding.UTF8.GetBytes(document.OuterXml));
        List<KeyValuePair<string, string>> fields = [new(parameter, message)];
        if (relayState is not null) fields.Add(new("RelayState", relayState));
        return SamlPostBinding.Page("Signing out", destination, fields, "Continue to finish signing out.");
    }

    private static XmlDocument BuildRequest(LogoutRequest request)
    {
        var (document, root) = Root("LogoutRequest", request.Id, request.IssueInstant, request.Destination, request.Issuer);
        if (request.NotOnOrAfter is { } notOnOrAfter) root.SetAttribute("NotOnOrAfter", Instant(notOnOrAfter));
        var nameId = document.CreateElement("saml", "NameID", SamlNamespaces.Assertion);
        if (request.NameIdFormat is not null) nameId.SetAttribute("Format", request.NameIdFormat);
        nameId.InnerText = request.NameId;
        root.AppendChild(nameId);
        foreach (var sessionIndex in request.SessionIndexes)
            root.AppendChild(document.CreateElement("samlp", "SessionIndex", SamlNamespaces.Protocol))!.InnerText = sessionIndex;
        return document;
    }

    private static XmlDocument BuildResponse(LogoutResponse response)
    {
        var (document, root) = Root("LogoutResponse", response.Id, response.IssueInstant, response.Destination, response.Issuer);
        root.SetAttribute("InResponseTo", response.InResponseTo);
        var status = root.AppendChild(document.CreateElement("samlp", "Status", SamlNamespaces.Protocol))!;
        ((XmlElement)status.AppendChild(document.CreateElement("samlp", "StatusCode", SamlNamespaces.Protocol))!)
            .SetAttribute("Value", response.StatusCode);
        return document;
    }

    private static (XmlDocument Document, XmlElement Root) Root(string name, string id, DateTimeOffset issueInstant, string destination,
        string issuer)
    {
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        var root = document.CreateElement("samlp", name, SamlNamespaces.Protocol);
        root.SetAttribute("xmlns:saml", SamlNamespaces.Assertion);
        root.SetAttribute("ID", id);
        root.SetAttribute("Version", "2.0");
        root.SetAttribute("IssueInstant", Instant(issueInstant));
        root.SetAttribute("Destination", destination);
        document.AppendChild(root);
        root.AppendChild(document.CreateElement("saml", "Issuer", SamlNamespaces.Assertion))!.InnerText = issuer;
        return (document, root);
    }

    private static string Instant(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>What a connection's SLO endpoint trusts when it checks a logout message from the IdP.</summary>
public sealed record SamlLogoutParameters
{
    public required IReadOnlyList<X509Certificate2> IdpCertificates { get; init; }
    public required string IdpEntityId { get; init; }

    /// <summary>This connection's SLO URL, exactly as published in the SP metadata.</summary>
    public required string SloUrl { get; init; }

    public bool AllowSha1 { get; init; }
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// A message issued longer ago is refused: a LogoutRequest without NotOnOrAfter would
    /// otherwise end, when replayed, sessions that began after it was sent.
    /// </summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromMinutes(10);

    public required DateTimeOffset Now { get; init; }
}

/// <summary>
/// Validates the IdP's LogoutRequest and LogoutResponse at our SLO endpoint (profiles §4.4).
/// Verify, then read: the signature is checked first (the query-string signature for
/// HTTP-Redirect, the enveloped signature for HTTP-POST), and only signed messages are read.
/// </summary>
public static class SamlLogoutValidator
{
    public static Result<LogoutRequest, SamlFailure> ValidateRedirectRequest(string rawQuery, SamlLogoutParameters parameters)
    {
        var verified = VerifyRedirect(rawQuery, SamlRedirectBinding.RequestParameter, "LogoutRequest", parameters);
        return verified.IsSuccess ? ReadRequest(verified.Value, parameters) : verified.Error;
    }

    public static Result<LogoutRequest, SamlFailure> ValidatePostRequest(string? samlRequest, SamlLogoutParameters parameters)
    {
        var verified = VerifyPost(samlRequest, "LogoutRequest", parameters);
        return verified.IsSuccess ? ReadRequest(verified.Value, parameters) : verified.Error;
    }

    public static Result<LogoutResponse, SamlFailure> ValidateRedirectResponse(string rawQuery, string expectedInResponseTo,
        SamlLogoutParameters parameters)
    {
        var verified = VerifyRedirect(rawQuery, SamlRedirectBinding.ResponseParameter, "LogoutResponse", parameters);
        return verified.IsSuccess ? ReadResponse(verified.Value, expectedInResponseTo, parameters) : verified.Error;
    }

    public static Result<LogoutResponse, SamlFailure> ValidatePostResponse(string? samlResponse, string expectedInResponseTo,
        SamlLogoutParameters parameters)
    {
        var verified = VerifyPost(samlResponse, "LogoutResponse", parameters);
        return verified.IsSuccess ? ReadResponse(verified.Value, expectedInResponseTo, parameters) : verified.Error;
    }

    /// <summary>The RelayState of a redirect, read without judgement (it names what to look up).</summary>
    public static string? RedirectRelayState(string rawQuery, string parameter) =>
        SamlRedirectBinding.Read(rawQuery, parameter) is { IsSuccess: true } read ? read.Value.RelayState : null;

    private static Result<XmlElement, SamlFailure> VerifyRedirect(string rawQuery, string parameter, string localName,
        SamlLogoutParameters parameters)
    {
        var message = SamlRedirectBinding.Read(rawQuery, parameter);
        if (!message.IsSuccess) return message.Error;
        if (SamlRedirectBinding.VerifySignature(message.Value, parameters.IdpCertificates, parameters.AllowSha1) is { } bad) return bad;
        var document = SecureXml.Load(message.Value.UnverifiedXml, SamlRedirectBinding.MaxInflatedBytes, localName);
        if (!document.IsSuccess) return document.Error;
        var root = document.Value.DocumentElement!;
        if (root.LocalName != localName || root.NamespaceURI != SamlNamespaces.Protocol)
            return SamlFailure.Structure($"The root element is <{root.Name}>; a SAML 2.0 <samlp:{localName}> is expected.");
        return root;
    }

    private static Result<XmlElement, SamlFailure> VerifyPost(string? encoded, string localName, SamlLogoutParameters parameters)
    {
        var document = SamlResponseReader.Read(encoded);
        if (!document.IsSuccess) return document.Error;
        return SamlSignatureVerifier.VerifyProtocolMessage(document.Value, localName, new SamlTrust
        {
            IdpCertificates = parameters.IdpCertificates,
            AllowSha1 = parameters.AllowSha1,
        });
    }

    private static Result<LogoutRequest, SamlFailure> ReadRequest(XmlElement request, SamlLogoutParameters parameters)
    {
        var common = CheckCommon(request, "LogoutRequest", parameters);
        if (!common.IsSuccess) return common.Error;

        // Core §3.7.1: Issuer?, Signature?, Extensions?, (BaseID | NameID | EncryptedID), SessionIndex*.
        string? nameId = null;
        string? nameIdFormat = null;
        var sessionIndexes = new List<string>();
        foreach (var child in SecureXml.ChildElements(request))
        {
            switch (child.LocalName, child.NamespaceURI)
            {
                case ("Issuer", SamlNamespaces.Assertion) or ("Signature", SamlNamespaces.XmlDsig) or ("Extensions", SamlNamespaces.Protocol):
                    break;
                case ("NameID", SamlNamespaces.Assertion) when nameId is null && sessionIndexes.Count == 0:
                    var text = SecureXml.FullText(child, "The NameID");
                    if (!text.IsSuccess) return text.Error;
                    nameId = text.Value.Trim();
                    nameIdFormat = SecureXml.Attribute(child, "Format");
                    break;
                case ("EncryptedID", SamlNamespaces.Assertion) or ("BaseID", SamlNamespaces.Assertion):
                    return SamlFailure.Structure(
                        $"The LogoutRequest names the user by <{child.Name}>; this service accepts a plain NameID, as it signed the user in with.");
                case ("SessionIndex", SamlNamespaces.Protocol) when nameId is not null:
                    var index = SecureXml.FullText(child, "A SessionIndex");
                    if (!index.IsSuccess) return index.Error;
                    sessionIndexes.Add(index.Value.Trim());
                    break;
                default:
                    return SamlFailure.Structure($"The LogoutRequest contains <{child.Name}> out of place.");
            }
        }
        if (string.IsNullOrEmpty(nameId))
            return SamlFailure.Structure("The LogoutRequest has no NameID; core §3.7.1 requires the principal to be named.");

        // Core §3.7.1: NotOnOrAfter is when the request expires.
        DateTimeOffset? notOnOrAfter = null;
        if (SecureXml.Attribute(request, "NotOnOrAfter") is { } limitText)
        {
            if (!TryInstant(limitText, out var limit))
                return SamlFailure.Structure($"The LogoutRequest NotOnOrAfter '{SamlFailure.Shown(limitText)}' is not an xs:dateTime.");
            if (parameters.Now >= limit + parameters.ClockSkew)
                return new SamlFailure(SamlFailureKind.Expired,
                    $"The LogoutRequest expired at {limit:u} (NotOnOrAfter); it is now {parameters.Now:u}.", Actual: limitText);
            notOnOrAfter = limit;
        }
        return new LogoutRequest
        {
            Id = common.Value.Id,
            IssueInstant = common.Value.IssueInstant,
            Issuer = parameters.IdpEntityId,
            Destination = parameters.SloUrl,
            NameId = nameId,
            NameIdFormat = nameIdFormat,
            SessionIndexes = sessionIndexes,
            NotOnOrAfter = notOnOrAfter,
            ReplayCacheUntil = (notOnOrAfter is { } until && until < common.Value.IssueInstant + parameters.MaxAge
                ? until
                : common.Value.IssueInstant + parameters.MaxAge) + parameters.ClockSkew,
        };
    }

    private static Result<LogoutResponse, SamlFailure> ReadResponse(XmlElement response, string expectedInResponseTo,
        SamlLogoutParameters parameters)
    {
        var common = CheckCommon(response, "LogoutResponse", parameters);
        if (!common.IsSuccess) return common.Error;

        // Core §3.2.2: InResponseTo names the request this answers; ours, and no other.
        var inResponseTo = SecureXml.Attribute(response, "InResponseTo");
        if (inResponseTo != expectedInResponseTo)
            return SamlFailure.Mismatch(SamlFailureKind.InResponseToMismatch, "The LogoutResponse InResponseTo", expectedInResponseTo, inResponseTo);

        // Core §3.2.2: Issuer?, Signature?, Extensions?, Status.
        string[] order = ["Issuer", "Signature", "Extensions", "Status"];
        var position = -1;
        XmlElement? status = null;
        foreach (var child in SecureXml.ChildElements(response))
        {
            var index = Array.IndexOf(order, child.LocalName);
            if (index <= position)
                return SamlFailure.Structure($"The LogoutResponse has <{child.Name}> out of place or more than once.");
            position = index;
            if (child.LocalName == "Status" && child.NamespaceURI == SamlNamespaces.Protocol) status = child;
        }
        var code = status is null ? null : SecureXml.ChildElement(status, SamlNamespaces.Protocol, "StatusCode");
        var value = code is null ? null : SecureXml.Attribute(code, "Value");
        if (string.IsNullOrEmpty(value))
            return SamlFailure.Structure("The LogoutResponse has no samlp:Status/samlp:StatusCode with a Value.");
        return new LogoutResponse
        {
            Id = common.Value.Id,
            IssueInstant = common.Value.IssueInstant,
            Issuer = parameters.IdpEntityId,
            Destination = parameters.SloUrl,
            InResponseTo = inResponseTo,
            StatusCode = value,
        };
    }

    /// <summary>What every request and response from the IdP must satisfy (core §3.2.1–3.2.2, profiles §4.4.4).</summary>
    private static Result<(string Id, DateTimeOffset IssueInstant), SamlFailure> CheckCommon(XmlElement message, string what,
        SamlLogoutParameters parameters)
    {
        if (SecureXml.Attribute(message, "Version") is var version && version != "2.0")
            return SamlFailure.Structure($"The {what} Version is '{SamlFailure.Shown(version)}'; SAML 2.0 is expected.");
        var id = SecureXml.Attribute(message, "ID");
        if (string.IsNullOrEmpty(id)) return SamlFailure.Structure($"The {what} has no ID attribute.");

        var instantText = SecureXml.Attribute(message, "IssueInstant");
        if (instantText is null || !TryInstant(instantText, out var issueInstant))
            return SamlFailure.Structure($"The {what} has no valid IssueInstant.");
        if (issueInstant > parameters.Now + parameters.ClockSkew)
            return new SamlFailure(SamlFailureKind.NotYetValid,
                $"The {what} was issued at {issueInstant:u}, in the future; check the IdP's clock.", Actual: instantText);
        if (parameters.Now >= issueInstant + parameters.MaxAge + parameters.ClockSkew)
            return new SamlFailure(SamlFailureKind.Expired,
                $"The {what} was issued at {issueInstant:u}, more than {parameters.MaxAge.TotalMinutes:0} minutes ago; it is now {parameters.Now:u}.",
                Actual: instantText);

        // Profiles §4.4.4.1 / §4.4.4.2: the Issuer MUST be present and is the IdP.
        var issuerElement = SecureXml.ChildElement(message, SamlNamespaces.Assertion, "Issuer");
        string? issuer = null;
        if (issuerElement is not null)
        {
            var text = SecureXml.FullText(issuerElement, $"The {what} Issuer");
            if (!text.IsSuccess) return text.Error;
            issuer = text.Value.Trim();
        }
        if (issuer != parameters.IdpEntityId)
            return SamlFailure.Mismatch(SamlFailureKind.IssuerMismatch, $"The {what} Issuer", parameters.IdpEntityId, issuer);

        // Bindings §3.4.5.2 / §3.5.5.2: a signed message MUST carry Destination, and it is us.
        var destination = SecureXml.Attribute(message, "Destination");
        if (destination != parameters.SloUrl)
            return SamlFailure.Mismatch(SamlFailureKind.DestinationMismatch, $"The {what} Destination", parameters.SloUrl, destination);
        return (id, issueInstant);
    }

    private static bool TryInstant(string text, out DateTimeOffset instant) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
}
