using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Sso.Protocols.Oidc;

/// <summary>Reads an IdP's JWKS (RFC 7517 §5), keeping only public signing keys this service accepts.</summary>
public static class OidcJwksReader
{
    public const int MaxDocumentBytes = 256 * 1024;

    public static Result<IReadOnlyList<JsonWebKey>, OidcFailure> Read(ReadOnlySpan<byte> unverifiedJson)
    {
        if (unverifiedJson.Length > MaxDocumentBytes)
            return OidcFailure.Of(OidcFailureKind.IdpResponseTooLarge, $"The JWKS is larger than {MaxDocumentBytes} bytes.");
        JsonWebKeySet set;
        try
        {
            using (var probe = OidcJson.ParseDocument(unverifiedJson))
                if (probe is null || probe.RootElement.ValueKind != JsonValueKind.Object || !probe.RootElement.TryGetProperty("keys", out var keys)
                    || keys.ValueKind != JsonValueKind.Array)
                    return OidcFailure.Of(OidcFailureKind.JwksMalformed, "The JWKS is not an object with a 'keys' array.");
            set = new JsonWebKeySet(System.Text.Encoding.UTF8.GetString(unverifiedJson));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException)
        {
            return OidcFailure.Of(OidcFailureKind.JwksMalformed, "The JWKS is not valid JSON Web Key Set.");
        }

        // A symmetric ('oct') key in a public JWKS is never a trust anchor; encryption keys do not sign.
        var usable = set.Keys
            .Where(k => k.Kty is JsonWebAlgorithmsKeyTypes.RSA or JsonWebAlgorithmsKeyTypes.EllipticCurve)
            .Where(k => string.IsNullOrEmpty(k.Use) || k.Use == JsonWebKeyUseNames.Sig)
            .Where(k => !k.HasPrivateKey)
            .ToList();
        return usable;
    }
}
