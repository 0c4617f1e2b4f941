using System.Text.Json.Nodes;

namespace Sso.Protocols.Scim;

/// <summary>
/// A SCIM error (RFC 7644 §3.12): the HTTP status, the <c>scimType</c> keyword for 400s and 409s,
/// and a detail that tells the IdP admin what to fix. Never carries a token or a request body.
/// </summary>
public sealed record ScimError(int Status, string? ScimType, string Detail)
{
    public static ScimError InvalidFilter(string detail) => new(400, "invalidFilter", detail);
    public static ScimError TooMany(string detail) => new(400, "tooMany", detail);
    public static ScimError Uniqueness(string attribute) =>
        new(409, "uniqueness", $"Another resource in this directory already has this {attribute}.");
    public static ScimError Mutability(string attribute) =>
        new(400, "mutability", $"The attribute '{attribute}' is read-only and cannot be changed.");
    public static ScimError InvalidSyntax(string detail) => new(400, "invalidSyntax", detail);
    public static ScimError InvalidPath(string detail) => new(400, "invalidPath", detail);
    public static ScimError NoTarget(string detail) => new(400, "noTarget", detail);
    public static ScimError InvalidValue(string detail) => new(400, "invalidValue", detail);
    public static ScimError InvalidVersion(string detail) => new(400, "invalidVers", detail);
    public static ScimError Sensitive(string detail) => new(403, "sensitive", detail);
    public static ScimError NotFound(string resourceId) =>
        new(404, null, $"Resource '{resourceId}' not found.");
    public static ScimError PreconditionFailed(string detail = "The resource has changed since the version given in If-Match.") =>
        new(412, null, detail);
    public static ScimError Conflict(string detail) => new(409, null, detail);
    public static ScimError PayloadTooLarge(int maxBytes) =>
        new(413, null, $"The request body is larger than the {maxBytes} bytes this server accepts.");
    public static ScimError Unauthorized(string detail = "A valid bearer token for this directory is required.") =>
        new(401, null, detail);
    public static ScimError NotImplemented(string detail) => new(501, null, detail);
    public static ScimError MethodNotAllowed(string detail) => new(405, null, detail);

    /// <summary>The RFC 7644 §3.12 body: <c>status</c> is a string there.</summary>
    public JsonObject ToJson()
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.Error),
            ["status"] = Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (ScimType is not null) body["scimType"] = ScimType;
        body["detail"] = Detail;
        return body;
    }

    public override string ToString() => $"{Status} {ScimType ?? "-"}: {Detail}";
}
