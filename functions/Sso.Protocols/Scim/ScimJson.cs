using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sso.Protocols.Scim;

/// <summary>JSON helpers for SCIM resources, whose attribute names are case-insensitive (RFC 7643 §2.1).</summary>
public static class ScimJson
{
    /// <summary>The key under which <paramref name="name"/> is stored, ignoring case; null when absent.</summary>
    public static string? FindKey(JsonObject json, string name)
    {
        if (json.ContainsKey(name)) return name;
        foreach (var (key, _) in json)
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) return key;
        return null;
    }

    public static JsonNode? Get(JsonObject? json, string name) =>
        json is not null && FindKey(json, name) is { } key ? json[key] : null;

    /// <summary>Sets the value, replacing a key that differs only in case.</summary>
    public static void Set(JsonObject json, string name, JsonNode? value)
    {
        if (FindKey(json, name) is { } existing && existing != name) json.Remove(existing);
        json[name] = value;
    }

    public static bool Remove(JsonObject json, string name) =>
        FindKey(json, name) is { } key && json.Remove(key);

    public static string? GetString(JsonObject? json, string name) =>
        Get(json, name) is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    public static bool? GetBoolean(JsonObject? json, string name) => Get(json, name) is JsonValue value ? AsBoolean(value) : null;

    /// <summary>A JSON boolean, or the strings "True"/"False" in any case as Entra ID sends them.</summary>
    public static bool? AsBoolean(JsonNode? node)
    {
        if (node is not JsonValue value) return null;
        return value.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.GetValue<string>().Trim(), out var parsed) => parsed,
            _ => null,
        };
    }

    public static JsonNode? Clone(JsonNode? node) => node?.DeepClone();

    /// <summary>Parses bytes into a JSON object; any other JSON value or malformed JSON is invalidSyntax.</summary>
    public static Result<JsonObject, ScimError> ParseObject(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return ScimError.InvalidSyntax("The request body is empty.");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            return ScimError.InvalidSyntax($"The request body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}).");
        }
        return node is JsonObject json ? json : ScimError.InvalidSyntax("The request body must be a JSON object.");
    }
}
