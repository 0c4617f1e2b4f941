using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Protocols.Scim.Filter;

namespace Sso.Protocols.Scim.Patch;

public enum ScimPatchOperationType { Add, Remove, Replace }

/// <summary>
/// A PATCH path (RFC 7644 §3.5.2 <c>PATH = attrPath / valuePath [subAttr]</c>):
/// <c>name.givenName</c>, <c>emails[type eq "work"].value</c>, <c>members[value eq "2819c223"]</c>.
/// </summary>
public sealed record ScimPatchPath(ScimAttributePath Attribute, ScimFilter? ValueFilter, string? ValueSubAttribute)
{
    /// <summary>The sub-attribute the path ends in, before or after a value filter.</summary>
    public string? SubAttribute => ValueSubAttribute ?? Attribute.SubAttributeName;

    public static Result<ScimPatchPath, ScimError> Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return ScimError.InvalidPath("The path is empty.");
        var cursor = new ScimFilterParser.Cursor(text.Trim());
        var attribute = cursor.ReadAttributePath();
        if (!attribute.IsSuccess) return AsInvalidPath(text, attribute.Error);
        ScimFilter? filter = null;
        string? sub = null;
        if (!cursor.AtEnd && cursor.Current == '[')
        {
            if (attribute.Value.SubAttributeName is not null)
                return ScimError.InvalidPath($"The path '{text}' has a sub-attribute before its value filter.");
            cursor.TryChar('[');
            var inner = cursor.ParseOr(depth: 0, insideValuePath: true);
            if (!inner.IsSuccess) return AsInvalidPath(text, inner.Error);
            if (!cursor.TryChar(']')) return ScimError.InvalidPath($"The path '{text}' has no closing ']'.");
            filter = inner.Value;
            if (!cursor.AtEnd && cursor.Current == '.')
            {
                cursor.TryChar('.');
                var subPath = cursor.ReadAttributePath();
                if (!subPath.IsSuccess || subPath.Value.SchemaUrn is not null || subPath.Value.SubAttributeName is not null)
                    return ScimError.InvalidPath($"The path '{text}' does not end in a sub-attribute name after ']'.");
                sub = subPath.Value.AttributeName;
            }
        }
        cursor.SkipWhitespace();
        if (!cursor.AtEnd) return ScimError.InvalidPath($"The path '{text}' has unexpected text at position {cursor.Position + 1}.");
        return new ScimPatchPath(attribute.Value, filter, sub);
    }

    private static ScimError AsInvalidPath(string text, ScimError error) =>
        ScimError.InvalidPath($"The path '{text}' is not valid: {error.Detail}");

    public override string ToString() => Attribute + (ValueFilter is null ? "" : "[…]") + (ValueSubAttribute is null ? "" : "." + ValueSubAttribute);
}

/// <summary>One PATCH operation; <see cref="HasValue"/> tells a missing value from a JSON null.</summary>
public sealed record ScimPatchOperation(ScimPatchOperationType Type, ScimPatchPath? Path, JsonNode? Value, bool HasValue = true);

/// <summary>A PatchOp request (RFC 7644 §3.5.2) as IdPs send it: op names in any case ("Replace" from Entra ID).</summary>
public sealed record ScimPatchRequest(IReadOnlyList<ScimPatchOperation> Operations)
{
    public const int MaxOperations = 1000;

    public static Result<ScimPatchRequest, ScimError> Parse(ReadOnlySpan<byte> body)
    {
        var json = ScimJson.ParseObject(body);
        if (!json.IsSuccess) return json.Error;
        return Parse(json.Value);
    }

    public static Result<ScimPatchRequest, ScimError> Parse(JsonObject json)
    {
        if (ScimJson.Get(json, "schemas") is not JsonArray schemas
            || !schemas.Any(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String
                                 && string.Equals(v.GetValue<string>(), ScimSchemas.PatchOp, StringComparison.OrdinalIgnoreCase)))
            return ScimError.InvalidSyntax($"A PATCH request must declare the schema '{ScimSchemas.PatchOp}'.");
        if (ScimJson.Get(json, "Operations") is not JsonArray operations || operations.Count == 0)
            return ScimError.InvalidSyntax("A PATCH request needs a non-empty 'Operations' array.");
        if (operations.Count > MaxOperations)
            return ScimError.TooMany($"A PATCH request may carry at most {MaxOperations} operations.");

        var parsed = new List<ScimPatchOperation>(operations.Count);
        for (var i = 0; i < operations.Count; i++)
        {
            if (operations[i] is not JsonObject operation)
                return ScimError.InvalidSyntax($"Operation {i + 1} is not a JSON object.");
            ScimPatchOperationType? type = ScimJson.GetString(operation, "op")?.Trim().ToLowerInvariant() switch
            {
                "add" => ScimPatchOperationType.Add,
                "remove" => ScimPatchOperationType.Remove,
                "replace" => ScimPatchOperationType.Replace,
                _ => null,
            };
            if (type is null)
                return ScimError.InvalidSyntax($"Operation {i + 1} has no 'op' of add, remove or replace.");

            ScimPatchPath? path = null;
            switch (ScimJson.Get(operation, "path"))
            {
                case null:
                    break;
                case JsonValue pathValue when pathValue.GetValueKind() == JsonValueKind.String:
                    // Some clients send "path": "" for a path-less operation.
                    if (pathValue.GetValue<string>().Trim().Length == 0) break;
                    var parsedPath = ScimPatchPath.Parse(pathValue.GetValue<string>());
                    if (!parsedPath.IsSuccess) return parsedPath.Error;
                    path = parsedPath.Value;
                    break;
                default:
                    return ScimError.InvalidPath($"Operation {i + 1} has a 'path' that is not a string.");
            }

            var hasValue = ScimJson.FindKey(operation, "value") is not null;
            var value = ScimJson.Get(operation, "value");
            // RFC 7644 §3.5.2.2: remove without a path fails with noTarget.
            if (type == ScimPatchOperationType.Remove && path is null)
                return ScimError.NoTarget($"Operation {i + 1} removes without a 'path'.");
            if (type != ScimPatchOperationType.Remove && (!hasValue || (value is null && type == ScimPatchOperationType.Add)))
                return ScimError.InvalidValue($"Operation {i + 1} ({type.Value.ToString().ToLowerInvariant()}) has no 'value'.");
            if (type != ScimPatchOperationType.Remove && path is null && value is not JsonObject)
                return ScimError.InvalidValue($"Operation {i + 1} has no 'path', so its 'value' must be an object of attributes.");
            parsed.Add(new ScimPatchOperation(type.Value, path, value?.DeepClone(), hasValue));
        }
        return new ScimPatchRequest(parsed);
    }
}
