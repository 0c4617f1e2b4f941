using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Protocols.Scim.Filter;
using Sso.Protocols.Scim.Patch;

namespace Sso.Protocols.Scim;

/// <summary>
/// Reads a User or Group that an IdP POSTs or PUTs and normalises it: attribute names in their schema
/// case, booleans sent as strings made booleans, read-only attributes (<c>id</c>, <c>meta</c>,
/// <c>groups</c>) ignored as RFC 7643 §2.2 says, attributes no schema defines dropped, and extension
/// attributes under a schema the request declares kept as sent. No judgement about uniqueness here.
/// </summary>
public static class ScimResourceReader
{
    public static Result<JsonObject, ScimError> Read(ReadOnlySpan<byte> body, ScimResourceType type)
    {
        var json = ScimJson.ParseObject(body);
        return json.IsSuccess ? Read(json.Value, type) : json.Error;
    }

    public static Result<JsonObject, ScimError> Read(JsonObject input, ScimResourceType type)
    {
        var declared = new List<string>();
        switch (ScimJson.Get(input, "schemas"))
        {
            case null:
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                        return ScimError.InvalidValue("'schemas' must be an array of schema URNs.");
                    declared.Add(v.GetValue<string>());
                }
                break;
            default:
                return ScimError.InvalidValue("'schemas' must be an array of schema URNs.");
        }
        var otherCore = declared.FirstOrDefault(s => ScimSchemas.ResourceTypes.Any(t => t != type
            && string.Equals(t.Core.Id, s, StringComparison.OrdinalIgnoreCase)));
        if (otherCore is not null && !declared.Contains(type.Core.Id, StringComparer.OrdinalIgnoreCase))
            return ScimError.InvalidValue($"This endpoint takes a {type.Name}; the body declares '{otherCore}'.");

        var result = new JsonObject { ["schemas"] = new JsonArray(JsonValue.Create(type.Core.Id)) };
        foreach (var (key, value) in input)
        {
            if (string.Equals(key, "schemas", StringComparison.OrdinalIgnoreCase) || value is null) continue;

            if (key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase))
            {
                if (ReadUrnKey(result, key, value, declared, type) is { } error) return error;
                continue;
            }
            if (ReadAttribute(result, type.Resolve(null, key)?.Attribute, value) is { } failed) return failed;
        }

        if (ScimPatchEngine.ValidateRequired(result, type) is { } missing) return missing;
        if (type == ScimSchemas.GroupResource && ScimJson.Get(result, "members") is JsonArray members
            && members.Any(m => ScimJson.GetString(m as JsonObject, "value") is not { Length: > 0 }))
            return ScimError.InvalidValue("Each member needs a non-empty 'value' with the member's id.");
        return result;
    }

    private static ScimError? ReadAttribute(JsonObject target, ScimAttribute? definition, JsonNode value)
    {
        // Unknown attributes are dropped; read-only ones (id, meta, groups) are the server's to set;
        // the password is never stored (users sign in at their IdP).
        if (definition is null || definition.Mutability is ScimMutability.ReadOnly or ScimMutability.WriteOnly) return null;
        var normalized = ScimPatchEngine.Normalize(definition, value, definition.Name);
        if (!normalized.IsSuccess) return normalized.Error;
        if (normalized.Value is not null) target[definition.Name] = normalized.Value;
        return null;
    }

    private static ScimError? ReadUrnKey(JsonObject result, string key, JsonNode value, List<string> declared, ScimResourceType type)
    {
        if (string.Equals(key, type.Core.Id, StringComparison.OrdinalIgnoreCase) && value is JsonObject coreValues)
        {
            foreach (var (name, inner) in coreValues)
                if (inner is not null && ReadAttribute(result, type.Resolve(null, name)?.Attribute, inner) is { } error) return error;
            return null;
        }
        if (type.FindExtension(key) is { } extension)
        {
            if (value is not JsonObject values) return ScimError.InvalidValue($"'{extension.Id}' must be an object.");
            var container = Container(result, extension.Id);
            foreach (var (name, inner) in values)
                if (inner is not null && ReadAttribute(container, extension.FindAttribute(name), inner) is { } error) return error;
            return null;
        }
        var isDeclared = declared.Contains(key, StringComparer.OrdinalIgnoreCase);
        var prefixed = ScimFilterParser.ParseAttributePath(key);
        if (!isDeclared && prefixed is { IsSuccess: true, Value.SchemaUrn: { } urn } && type.FindExtension(urn) is { } known)
        {
            // A URN-prefixed attribute sent flat, as Entra ID writes them in PATCH values.
            if (known.FindAttribute(prefixed.Value.AttributeName) is not { } definition) return null;
            return ReadAttribute(Container(result, known.Id), definition, value);
        }
        if (value is JsonObject custom)
        {
            // An extension this service does not know, e.g. a role attribute the customer maps in
            // their IdP: kept as sent and declared in "schemas" so it is returned as it came.
            result[key] = custom.DeepClone();
            Declare(result, key);
        }
        return null;
    }

    private static JsonObject Container(JsonObject result, string schemaId)
    {
        if (result[schemaId] is JsonObject existing) return existing;
        var container = new JsonObject();
        result[schemaId] = container;
        Declare(result, schemaId);
        return container;
    }

    private static void Declare(JsonObject result, string schemaId)
    {
        var schemas = (JsonArray)result["schemas"]!;
        if (!schemas.Any(s => string.Equals(s!.GetValue<string>(), schemaId, StringComparison.OrdinalIgnoreCase)))
            schemas.Add((JsonNode)JsonValue.Create(schemaId));
    }
}

/// <summary>Reads a User an IdP POSTs or PUTs; <c>userName</c> is required, <c>active</c> defaults to true.</summary>
public static class ScimUserReader
{
    public static Result<JsonObject, ScimError> Read(ReadOnlySpan<byte> body)
    {
        var user = ScimResourceReader.Read(body, ScimSchemas.UserResource);
        if (user.IsSuccess && user.Value["active"] is null) user.Value["active"] = true;
        return user;
    }
}

/// <summary>Reads a Group an IdP POSTs or PUTs; <c>displayName</c> is required.</summary>
public static class ScimGroupReader
{
    public static Result<JsonObject, ScimError> Read(ReadOnlySpan<byte> body) =>
        ScimResourceReader.Read(body, ScimSchemas.GroupResource);
}
