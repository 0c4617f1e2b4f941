using System.Xml;

namespace Sso.Protocols.Saml;

/// <summary>
/// Turns the <c>SAMLResponse</c> form field (HTTP-POST binding, bindings §3.5.4) into an XML
/// document that nothing has vouched for yet. No judgement beyond well-formedness and limits.
/// </summary>
public static class SamlResponseReader
{
    public const int MaxDecodedBytes = 256 * 1024;

    // Base64 grows by 4/3; IdPs also wrap lines, hence the slack.
    private const int MaxEncodedChars = MaxDecodedBytes / 3 * 4 + 16 * 1024;

    public static Result<XmlDocument, SamlFailure> Read(string? samlResponse)
    {
        if (string.IsNullOrWhiteSpace(samlResponse))
            return new SamlFailure(SamlFailureKind.MalformedXml, "The SAMLResponse form field is missing or empty.");
        if (samlResponse.Length > MaxEncodedChars)
            return new SamlFailure(SamlFailureKind.TooLarge,
                $"The SAMLResponse is {samlResponse.Length} characters; at most {MaxDecodedBytes} decoded bytes are accepted.");

        var buffer = new byte[samlResponse.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(samlResponse, buffer, out var written))
            return new SamlFailure(SamlFailureKind.MalformedXml, "The SAMLResponse form field is not valid base64.");
        return ReadXml(buffer.AsSpan(0, written));
    }

    public static Result<XmlDocument, SamlFailure> ReadXml(ReadOnlySpan<byte> unverifiedXml) =>
        SecureXml.Load(unverifiedXml, MaxDecodedBytes, "SAML response");
}
