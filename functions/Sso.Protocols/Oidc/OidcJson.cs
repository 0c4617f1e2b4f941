using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sso.Protocols.Oidc;

/// <summary>Parses what an IdP sends as JSON: an object, or null for anything else.</summary>
internal static class OidcJson
{
    // Duplicate members are refused: two 'aud' or two 'iss' values would be read differently by different parsers.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 16, AllowDuplicateProperties = false };

    public static JsonObject? ParseObject(ReadOnlySpan<byte> unverifiedJson)
    {
        try
        {
            using var document = JsonDocument.Parse(unverifiedJson.ToArray(), Options);
            return document.RootElement.ValueKind == JsonValueKind.Object ? JsonObject.Create(document.RootElement.Clone()) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static JsonDocument? ParseDocument(ReadOnlySpan<byte> unverifiedJson)
    {
        try
        {
            return JsonDocument.Parse(unverifiedJson.ToArray(), Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
