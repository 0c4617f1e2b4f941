using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sso.Protocols.Oidc;

/// <summary>The parts of a successful token response (Core §3.1.3.3) this service uses.</summary>
public sealed record OidcTokenResponse(string IdToken, string? AccessToken, string? TokenType);

/// <summary>Reads the IdP's token endpoint response: success (Core §3.1.3.3) or error (RFC 6749 §5.2).</summary>
public static class OidcTokenResponseReader
{
    public const int MaxResponseBytes = 256 * 1024;

    public static Result<OidcTokenResponse, OidcFailure> Read(int status, ReadOnlySpan<byte> body)
    {
        var json = OidcJson.ParseObject(body);

        if (status is < 200 or > 299 || json?["error"] is not null)
        {
            // error_description is the IdP's own text for the admin; error is an RFC 6749 code.
            var error = json is null ? null : ValidatedIdToken.ReadString(json, "error");
            var description = json is null ? null : ValidatedIdToken.ReadString(json, "error_description");
            return new OidcFailure(OidcFailureKind.TokenEndpointError,
                $"The IdP's token endpoint answered {status}{(error is null ? "" : $" with '{Safe(error)}'")}"
                + (description is null ? "." : $": {Safe(description)}"),
                Actual: error);
        }
        if (json is null)
            return OidcFailure.Of(OidcFailureKind.TokenResponseMalformed, "The IdP's token response is not a JSON object.");
        // Core §3.1.3.3: an OpenID token response carries an id_token.
        if (ValidatedIdToken.ReadString(json, "id_token") is not { } idToken)
            return OidcFailure.Of(OidcFailureKind.TokenResponseMalformed,
                "The IdP's token response has no id_token; is the 'openid' scope allowed for this app?");
        return new OidcTokenResponse(idToken, ValidatedIdToken.ReadString(json, "access_token"), ValidatedIdToken.ReadString(json, "token_type"));
    }

    private static string Safe(string text) =>
        new(text.Take(200).Where(c => !char.IsControl(c)).ToArray());
}

/// <summary>Reads a UserInfo response (Core §5.3.2) and merges what the id_token lacked.</summary>
public static class OidcUserInfoReader
{
    public const int MaxResponseBytes = 64 * 1024;

    /// <summary>
    /// Claims taken from UserInfo only when the id_token does not have them. Not <c>hd</c>, <c>tid</c> or
    /// <c>iss</c>: those were checked on the signed id_token and must not change afterwards.
    /// </summary>
    public static readonly IReadOnlyList<string> MergedClaims =
        ["email", "email_verified", "name", "given_name", "family_name", "preferred_username", "groups"];

    public static Result<JsonObject, OidcFailure> Read(ReadOnlySpan<byte> body, string idTokenSubject)
    {
        if (OidcJson.ParseObject(body) is not { } json)
            return OidcFailure.Of(OidcFailureKind.UserInfoMalformed, "The IdP's UserInfo response is not a JSON object.");
        // Core §5.3.2: the sub in the UserInfo response MUST be verified to exactly match the id_token's.
        var sub = ValidatedIdToken.ReadString(json, "sub");
        if (sub != idTokenSubject)
            return new OidcFailure(OidcFailureKind.UserInfoSubjectMismatch,
                "The IdP's UserInfo response is about another subject than the id_token; it is ignored as a substitution attempt.");
        return json;
    }

    /// <summary>The id_token's claims, with UserInfo's filling the gaps; the id_token always wins.</summary>
    public static ValidatedIdToken Merge(ValidatedIdToken token, JsonObject userInfo)
    {
        var claims = token.Claims.DeepClone().AsObject();
        // email_verified speaks of one address: it comes from wherever the email came from.
        var emailFromUserInfo = claims["email"] is null && userInfo["email"] is not null;
        foreach (var name in MergedClaims)
            if (name != "email_verified" && claims[name] is null && userInfo[name] is { } value)
                claims[name] = value.DeepClone();
        if (emailFromUserInfo)
        {
            claims.Remove("email_verified");
            if (userInfo["email_verified"] is { } verified) claims["email_verified"] = verified.DeepClone();
        }
        var groups = token.Groups;
        if (groups.Count == 0 && claims["groups"] is JsonArray array)
            groups = array.Select(g => g is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().ToList();
        return token with { Claims = claims, Groups = groups };
    }

    /// <summary>Whether UserInfo is worth a call: the id_token lacks an email address or a name.</summary>
    public static bool NeedsUserInfo(ValidatedIdToken token) => token.Email is null || token.Name is null && token.GivenName is null;
}
