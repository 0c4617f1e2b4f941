using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Protocols.Scim.Filter;

namespace Sso.Protocols.Scim.Patch;

/// <summary>
/// Applies a PatchOp (RFC 7644 §3.5.2) to a resource, all operations or none, in the dialects IdPs send:
/// path-less value objects with dotted (<c>name.givenName</c>) and URN-prefixed keys, booleans as strings
/// (<c>"False"</c>), a bare id as the enterprise <c>manager</c>, value filters in paths, and Entra ID's
/// <c>remove</c> of listed <c>members</c> values.
/// </summary>
public static class ScimPatchEngine
{
    private const string CoreSchemaPrefix = "urn:ietf:params:scim:schemas:core:";

    public static Result<JsonObject, ScimError> Apply(JsonObject resource, ScimPatchRequest patch) =>
        Apply(resource, patch, ScimSchemas.ResourceTypeOf(resource));

    public static Result<JsonObject, ScimError> Apply(JsonObject resource, ScimPatchRequest patch, ScimResourceType type)
    {
        // RFC 7644 §3.5.2: all operations or none, so work on a copy.
        var working = resource.DeepClone().AsObject();
        foreach (var operation in patch.Operations)
        {
            var error = operation.Path is null ? ApplyPathless(working, operation, type)
                : SchemaNamedBy(operation.Path, working, type) is { } schemaId ? ApplyToSchema(working, operation, schemaId, type)
                : ApplyAt(working, operation.Type, operation.Path, operation.Value, type, pathless: false);
            if (error is not null) return error;
        }
        RemoveEmptyExtensions(working, type);
        return ValidateRequired(working, type) is { } missing ? missing : working;
    }

    private static ScimError? ApplyPathless(JsonObject working, ScimPatchOperation operation, ScimResourceType type)
    {
        foreach (var (key, value) in (JsonObject)operation.Value!)
        {
            if (IsSchemaContainer(key, value, working, type))
            {
                var isCore = string.Equals(key, type.Core.Id, StringComparison.OrdinalIgnoreCase);
                foreach (var (innerKey, innerValue) in (JsonObject)value!)
                {
                    var inner = ScimFilterParser.ParseAttributePath(innerKey);
                    if (!inner.IsSuccess || inner.Value.SchemaUrn is not null)
                        return ScimError.InvalidPath($"'{innerKey}' under '{key}' is not an attribute name.");
                    var path = new ScimPatchPath(inner.Value with { SchemaUrn = isCore ? null : key }, null, null);
                    if (ApplyAt(working, operation.Type, path, innerValue, type, pathless: true) is { } error) return error;
                }
                continue;
            }
            var attribute = ScimFilterParser.ParseAttributePath(key);
            if (!attribute.IsSuccess) return ScimError.InvalidPath($"The value key '{key}' is not an attribute path: {attribute.Error}.");
            if (ApplyAt(working, operation.Type, new ScimPatchPath(attribute.Value, null, null), value, type, pathless: true) is { } failed)
                return failed;
        }
        return null;
    }

    // A path that is a whole schema's URN ("urn:…:enterprise:2.0:User") rather than an attribute:
    // the parser reads it as attribute "User" of schema "urn:…:enterprise:2.0", which names nothing.
    private static string? SchemaNamedBy(ScimPatchPath path, JsonObject working, ScimResourceType type)
    {
        if (path is not { ValueFilter: null, ValueSubAttribute: null, Attribute: { SchemaUrn: { } urn, SubAttributeName: null } attribute })
            return null;
        var candidate = urn + ":" + attribute.AttributeName;
        if (string.Equals(candidate, type.Core.Id, StringComparison.OrdinalIgnoreCase)) return type.Core.Id;
        if (type.FindExtension(candidate) is { } extension) return extension.Id;
        return ScimJson.Get(working, "schemas") is JsonArray schemas
               && schemas.Any(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String
                                   && string.Equals(v.GetValue<string>(), candidate, StringComparison.OrdinalIgnoreCase))
            ? candidate
            : null;
    }

    // RFC 7644 §3.5.2.1/§3.5.2.3: add or replace with a schema's URN as the path takes an object of
    // that schema's attributes, exactly like a path-less value keyed by the URN; remove drops the
    // extension with its declaration.
    private static ScimError? ApplyToSchema(JsonObject working, ScimPatchOperation operation, string schemaId, ScimResourceType type)
    {
        var isCore = string.Equals(schemaId, type.Core.Id, StringComparison.OrdinalIgnoreCase);
        if (operation.Type == ScimPatchOperationType.Remove)
        {
            if (isCore) return ScimError.InvalidPath($"The core schema '{schemaId}' cannot be removed.");
            if (ScimJson.FindKey(working, schemaId) is { } key) working[key] = new JsonObject();
            return null;
        }
        if (operation.Value is not JsonObject value)
            return ScimError.InvalidValue($"The path '{schemaId}' names a whole schema, so the value must be an object of its attributes.");
        return ApplyPathless(working, operation with { Path = null, Value = new JsonObject { [schemaId] = value.DeepClone() } }, type);
    }

    // A key that is a schema URN holding an object of that schema's attributes, as opposed to a
    // URN-prefixed attribute ("urn:…:enterprise:2.0:User:department") that Entra ID sends flat.
    private static bool IsSchemaContainer(string key, JsonNode? value, JsonObject working, ScimResourceType type)
    {
        if (value is not JsonObject || !key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase)) return false;
        if (type.IsCoreOrKnownExtension(key)) return true;
        if (ScimJson.Get(working, "schemas") is JsonArray schemas
            && schemas.Any(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String && string.Equals(v.GetValue<string>(), key, StringComparison.OrdinalIgnoreCase)))
            return true;
        // An unknown URN whose last segment names an attribute of a known schema is a prefixed attribute.
        var attribute = ScimFilterParser.ParseAttributePath(key);
        return !(attribute.IsSuccess && attribute.Value.SchemaUrn is { } urn && type.IsCoreOrKnownExtension(urn));
    }

    private static ScimError? ApplyAt(JsonObject working, ScimPatchOperationType op, ScimPatchPath path, JsonNode? value,
        ScimResourceType type, bool pathless)
    {
        var attributePath = path.Attribute;
        var urn = attributePath.SchemaUrn;
        var isCore = urn is null || string.Equals(urn, type.Core.Id, StringComparison.OrdinalIgnoreCase);
        if (!isCore && urn!.StartsWith(CoreSchemaPrefix, StringComparison.OrdinalIgnoreCase))
            return ScimError.InvalidPath($"'{attributePath}' belongs to a schema that a {type.Name} does not have.");

        ScimAttribute? definition;
        ScimSchema? extension = null;
        if (isCore)
        {
            definition = type.Resolve(null, attributePath.AttributeName)?.Attribute;
            if (definition is null)
                return ScimError.InvalidPath($"'{attributePath.AttributeName}' is not an attribute of a {type.Name}.");
        }
        else
        {
            extension = type.FindExtension(urn!);
            definition = extension?.FindAttribute(attributePath.AttributeName);
            if (extension is not null && definition is null)
                return ScimError.InvalidPath($"'{attributePath.AttributeName}' is not an attribute of '{extension.Id}'.");
        }

        var subName = path.SubAttribute;
        ScimAttribute? subDefinition = null;
        if (subName is not null && definition is not null)
        {
            if (!definition.IsComplex)
                return ScimError.InvalidPath($"'{definition.Name}' has no sub-attributes, so '{path}' names nothing.");
            subDefinition = definition.FindSubAttribute(subName);
            if (subDefinition is null)
                return ScimError.InvalidPath($"'{subName}' is not a sub-attribute of '{definition.Name}'.");
            subName = subDefinition.Name;
        }
        if (path.ValueFilter is not null && definition is { MultiValued: false })
            return ScimError.InvalidPath($"'{definition.Name}' is single-valued, so it cannot take a value filter.");

        // The service never stores passwords: SSO users sign in at their IdP (Okta syncs them by PATCH).
        if (definition?.Mutability == ScimMutability.WriteOnly) return null;

        var container = isCore ? working : ScimJson.Get(working, urn!) as JsonObject;
        var name = definition?.Name ?? (container is null ? null : ScimJson.FindKey(container, attributePath.AttributeName)) ?? attributePath.AttributeName;
        var current = container is null ? null : ScimJson.Get(container, name);

        if (definition?.Mutability == ScimMutability.ReadOnly || subDefinition?.Mutability == ScimMutability.ReadOnly)
        {
            // Okta renames a group with a path-less replace that repeats its "id": an unchanged
            // read-only value is ignored (RFC 7643 §2.2 lets servers ignore read-only input).
            var existing = subName is null ? current : (current as JsonObject)?[subName];
            if (pathless && op != ScimPatchOperationType.Remove && JsonNode.DeepEquals(existing, value)) return null;
            if (pathless && subDefinition?.Mutability == ScimMutability.ReadOnly && definition?.Mutability != ScimMutability.ReadOnly) return null;
            return ScimError.Mutability(path.ToString());
        }
        if (op == ScimPatchOperationType.Replace && value is null) op = ScimPatchOperationType.Remove;

        if (container is null)
        {
            if (op == ScimPatchOperationType.Remove) return null;
            container = new JsonObject();
            var schemaId = extension?.Id ?? urn!;
            working[schemaId] = container;
            EnsureSchemaDeclared(working, schemaId);
        }

        JsonNode? normalized = null;
        if (value is not null)
        {
            var result = subName is not null
                ? NormalizeSingle(subDefinition, value, $"{name}.{subName}")
                : path.ValueFilter is not null
                    ? NormalizeSingle(definition, value, name)
                    : Normalize(definition, value, name);
            if (!result.IsSuccess) return result.Error;
            normalized = result.Value;
        }

        if (path.ValueFilter is not null)
            return ApplyFiltered(container, name, definition, path.ValueFilter, subName, subDefinition, op, normalized, type, path);
        if (subName is not null)
            return ApplySubAttribute(container, name, definition, subName, subDefinition, op, normalized);
        return ApplyWhole(container, name, definition, op, normalized);
    }

    private static ScimError? ApplyWhole(JsonObject container, string name, ScimAttribute? definition,
        ScimPatchOperationType op, JsonNode? value)
    {
        var current = ScimJson.Get(container, name);
        var multiValued = definition?.MultiValued ?? (current is JsonArray || value is JsonArray);
        switch (op)
        {
            case ScimPatchOperationType.Remove when value is not null && multiValued:
                // Entra ID removes group members with path "members" and the values to remove;
                // RFC 7644 would remove them all. Only the listed values go.
                if (current is JsonArray listed)
                {
                    var toRemove = value is JsonArray values ? values.ToList() : [value];
                    foreach (var item in listed.Where(existing => toRemove.Any(r => SameValue(existing, r))).ToList())
                        listed.Remove(item);
                    if (listed.Count == 0) ScimJson.Remove(container, name);
                }
                return null;

            case ScimPatchOperationType.Remove:
                if (definition?.Required == true)
                    return ScimError.InvalidValue($"'{name}' is required and cannot be removed.");
                ScimJson.Remove(container, name);
                return null;

            case ScimPatchOperationType.Add when multiValued:
                var array = current as JsonArray ?? new JsonArray();
                foreach (var item in value is JsonArray items ? items.ToList() : [value])
                {
                    var detached = item?.DeepClone();
                    if (array.FirstOrDefault(existing => SameValue(existing, detached)) is JsonObject same && detached is JsonObject addition)
                        Merge(same, addition);
                    else if (!array.Any(existing => SameValue(existing, detached)))
                        array.Add(detached);
                    if (IsPrimary(detached)) ClearOtherPrimaries(array, detached);
                }
                if (current is not JsonArray && array.Count > 0) ScimJson.Set(container, name, array);
                return null;

            case ScimPatchOperationType.Add or ScimPatchOperationType.Replace
                when definition is { IsComplex: true, MultiValued: false } && current is JsonObject existingObject && value is JsonObject update:
                // RFC 7644 §3.5.2.1/3: sub-attributes not in the value are left unchanged.
                Merge(existingObject, update);
                return null;

            default:
                ScimJson.Set(container, name, value?.DeepClone());
                return null;
        }
    }

    private static ScimError? ApplySubAttribute(JsonObject container, string name, ScimAttribute? definition,
        string subName, ScimAttribute? subDefinition, ScimPatchOperationType op, JsonNode? value)
    {
        var current = ScimJson.Get(container, name);
        if (definition?.MultiValued == true || current is JsonArray)
        {
            var elements = (current as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
            if (op == ScimPatchOperationType.Remove)
            {
                foreach (var element in elements) ScimJson.Remove(element, subName);
                return null;
            }
            if (subDefinition?.Mutability == ScimMutability.Immutable && elements.Count > 0)
                return ScimError.Mutability($"{name}.{subName}");
            if (elements.Count == 0)
                ScimJson.Set(container, name, new JsonArray(new JsonObject { [subName] = value?.DeepClone() }));
            foreach (var element in elements) ScimJson.Set(element, subName, value?.DeepClone());
            return null;
        }

        var target = current as JsonObject;
        if (op == ScimPatchOperationType.Remove)
        {
            if (target is null) return null;
            ScimJson.Remove(target, subName);
            if (target.Count == 0) ScimJson.Remove(container, name);
            return null;
        }
        if (target is null)
        {
            target = new JsonObject();
            ScimJson.Set(container, name, target);
        }
        ScimJson.Set(target, subName, value?.DeepClone());
        return null;
    }

    private static ScimError? ApplyFiltered(JsonObject container, string name, ScimAttribute? definition, ScimFilter filter,
        string? subName, ScimAttribute? subDefinition, ScimPatchOperationType op, JsonNode? value, ScimResourceType type,
        ScimPatchPath path)
    {
        var array = ScimJson.Get(container, name) as JsonArray;
        var matches = array?.OfType<JsonObject>()
            .Where(element => ScimFilterEvaluator.MatchesValue(filter, element, definition, type)).ToList() ?? [];

        if (op == ScimPatchOperationType.Remove)
        {
            // Removing a value that is already gone is not an error: IdPs retry removals.
            foreach (var match in matches)
            {
                if (subName is null) array!.Remove(match);
                else ScimJson.Remove(match, subName);
            }
            if (array is { Count: 0 }) ScimJson.Remove(container, name);
            return null;
        }

        if (matches.Count == 0)
        {
            // Entra ID adds (and replaces) emails[type eq "work"].value on users that have no work email
            // yet; when the filter only states equalities, the value it describes is created.
            if (Equalities(filter, definition) is not { } seed)
                return ScimError.NoTarget($"No value of '{name}' matches the filter in '{path}'.");
            if (subName is not null) seed[subName] = value?.DeepClone();
            else if (value is JsonObject whole) Merge(seed, whole);
            else return ScimError.InvalidValue($"The value for '{path}' must be an object.");
            if (array is null)
            {
                array = new JsonArray();
                ScimJson.Set(container, name, array);
            }
            array.Add((JsonNode)seed);
            if (IsPrimary(seed)) ClearOtherPrimaries(array, seed);
            return null;
        }

        foreach (var match in matches)
        {
            if (subName is not null)
            {
                if (subDefinition?.Mutability == ScimMutability.Immutable && op == ScimPatchOperationType.Replace)
                    return ScimError.Mutability($"{name}.{subName}");
                ScimJson.Set(match, subName, value?.DeepClone());
            }
            else if (value is JsonObject replacement)
            {
                if (op == ScimPatchOperationType.Replace)
                    foreach (var key in match.Select(p => p.Key).ToList()) match.Remove(key);
                Merge(match, replacement);
            }
            else
            {
                return ScimError.InvalidValue($"The value for '{path}' must be an object.");
            }
            if (IsPrimary(match)) ClearOtherPrimaries(array!, match);
        }
        return null;
    }

    private static JsonObject? Equalities(ScimFilter filter, ScimAttribute? definition)
    {
        var seed = new JsonObject();
        return Collect(filter) ? seed : null;

        bool Collect(ScimFilter f)
        {
            switch (f)
            {
                case ScimFilter.And and:
                    return Collect(and.Left) && Collect(and.Right);
                case ScimFilter.Comparison { Operator: ScimComparisonOperator.Eq, Value: { } v, Path: { SchemaUrn: null, SubAttributeName: null } p }:
                    var sub = definition?.FindSubAttribute(p.AttributeName);
                    if (definition is not null && sub is null) return false;
                    seed[sub?.Name ?? p.AttributeName] = v.DeepClone();
                    return true;
                default:
                    return false;
            }
        }
    }

    // RFC 7643 §2.4: values of a multi-valued complex attribute are the same when their "value" is.
    private static bool SameValue(JsonNode? a, JsonNode? b)
    {
        if (a is JsonObject objectA && b is JsonObject objectB
            && ScimJson.Get(objectA, "value") is JsonValue valueA && ScimJson.Get(objectB, "value") is JsonValue valueB)
            return JsonNode.DeepEquals(valueA, valueB);
        return JsonNode.DeepEquals(a, b);
    }

    private static bool IsPrimary(JsonNode? node) => node is JsonObject obj && ScimJson.AsBoolean(ScimJson.Get(obj, "primary")) == true;

    // RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once.
    private static void ClearOtherPrimaries(JsonArray array, JsonNode? primary)
    {
        foreach (var other in array.OfType<JsonObject>())
            if (!ReferenceEquals(other, primary) && IsPrimary(other)) ScimJson.Set(other, "primary", false);
    }

    private static void Merge(JsonObject target, JsonObject update)
    {
        foreach (var (key, value) in update) ScimJson.Set(target, key, value?.DeepClone());
    }

    private static void EnsureSchemaDeclared(JsonObject working, string schemaId)
    {
        if (ScimJson.Get(working, "schemas") is not JsonArray schemas)
        {
            schemas = new JsonArray();
            working["schemas"] = schemas;
        }
        if (!schemas.Any(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String && string.Equals(v.GetValue<string>(), schemaId, StringComparison.OrdinalIgnoreCase)))
            schemas.Add((JsonNode)JsonValue.Create(schemaId));
    }

    private static void RemoveEmptyExtensions(JsonObject working, ScimResourceType type)
    {
        foreach (var key in working.Where(p => p.Key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) && p.Value is JsonObject { Count: 0 })
                     .Select(p => p.Key).ToList())
        {
            working.Remove(key);
            if (ScimJson.Get(working, "schemas") is JsonArray schemas)
                foreach (var declared in schemas.Where(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String
                             && string.Equals(v.GetValue<string>(), key, StringComparison.OrdinalIgnoreCase)).ToList())
                    schemas.Remove(declared);
        }
    }

    internal static ScimError? ValidateRequired(JsonObject resource, ScimResourceType type)
    {
        foreach (var attribute in type.Core.Attributes.Where(a => a.Required))
            if (ScimJson.GetString(resource, attribute.Name) is not { Length: > 0 } text || string.IsNullOrWhiteSpace(text))
                return ScimError.InvalidValue($"'{attribute.Name}' is required and must be a non-empty string.");
        return null;
    }

    // ---- value normalisation, shared with the resource readers ----

    internal static Result<JsonNode?, ScimError> Normalize(ScimAttribute? definition, JsonNode? value, string label)
    {
        if (value is null) return (JsonNode?)null;
        if (definition is null) return value.DeepClone();
        if (!definition.MultiValued) return NormalizeSingle(definition, value, label);
        var result = new JsonArray();
        foreach (var item in value is JsonArray items ? items.ToList() : [value])
        {
            if (item is null) continue;
            var normalized = NormalizeSingle(definition, item, label);
            if (!normalized.IsSuccess) return normalized;
            result.Add(normalized.Value);
        }
        return result;
    }

    internal static Result<JsonNode?, ScimError> NormalizeSingle(ScimAttribute? definition, JsonNode? value, string label)
    {
        if (value is null) return (JsonNode?)null;
        if (definition is null) return value.DeepClone();
        var kind = value.GetValueKind();
        switch (definition.Type)
        {
            case ScimAttributeType.Boolean:
                // Entra ID sends "True"/"False" strings unless its aadOptscim062020 flag is set.
                return ScimJson.AsBoolean(value) is { } flag
                    ? JsonValue.Create(flag)
                    : ScimError.InvalidValue($"'{label}' must be a boolean.");

            case ScimAttributeType.String or ScimAttributeType.Reference or ScimAttributeType.Binary or ScimAttributeType.DateTime:
                string text;
                if (kind == JsonValueKind.String) text = value.GetValue<string>();
                else if (kind == JsonValueKind.Number && definition.Type == ScimAttributeType.String) text = value.ToJsonString();
                else if (kind is JsonValueKind.True or JsonValueKind.False && definition.Type == ScimAttributeType.String) text = kind == JsonValueKind.True ? "true" : "false";
                else return ScimError.InvalidValue($"'{label}' must be a string.");
                if (definition.Type == ScimAttributeType.DateTime
                    && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
                    return ScimError.InvalidValue($"'{label}' must be an xsd:dateTime.");
                return JsonValue.Create(text);

            case ScimAttributeType.Integer or ScimAttributeType.Decimal:
                if (kind == JsonValueKind.Number) return value.DeepClone();
                if (kind == JsonValueKind.String && decimal.TryParse(value.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                    return JsonValue.Create(number);
                return ScimError.InvalidValue($"'{label}' must be a number.");

            case ScimAttributeType.Complex:
                // Entra ID sends the enterprise manager as the bare id, meaning manager.value.
                if (kind == JsonValueKind.String && definition.FindSubAttribute("value") is not null)
                    return new JsonObject { ["value"] = value.GetValue<string>() };
                if (value is not JsonObject complex)
                    return ScimError.InvalidValue($"'{label}' must be an object.");
                var result = new JsonObject();
                foreach (var (key, subValue) in complex)
                {
                    // Unknown sub-attributes are dropped, and so are read-only ones (RFC 7643 §2.2)
                    // and JSON nulls such as the "$ref": null Entra ID sends with members.
                    if (definition.FindSubAttribute(key) is not { } sub || subValue is null
                        || sub.Mutability == ScimMutability.ReadOnly) continue;
                    var normalized = NormalizeSingle(sub, subValue, $"{label}.{sub.Name}");
                    if (!normalized.IsSuccess) return normalized;
                    result[sub.Name] = normalized.Value;
                }
                return result;

            default:
                return value.DeepClone();
        }
    }
}
