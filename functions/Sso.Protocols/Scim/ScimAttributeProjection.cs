using System.Text.Json.Nodes;
using Sso.Protocols.Scim.Filter;

namespace Sso.Protocols.Scim;

/// <summary>
/// The <c>attributes</c> / <c>excludedAttributes</c> query parameters (RFC 7644 §3.4.2.5, §3.9):
/// attributes returned "always" (<c>id</c>, and <c>schemas</c>) are kept, "never" ones (<c>password</c>)
/// are dropped, "default" ones follow the lists.
/// </summary>
public sealed class ScimAttributeProjection
{
    private readonly IReadOnlyList<Selector> _attributes;
    private readonly IReadOnlyList<Selector> _excluded;

    private sealed record Selector(string? Schema, string Name, string? Sub);

    private ScimAttributeProjection(IReadOnlyList<Selector> attributes, IReadOnlyList<Selector> excluded)
    {
        _attributes = attributes;
        _excluded = excluded;
    }

    public static ScimAttributeProjection Default { get; } = new([], []);

    public static Result<ScimAttributeProjection, ScimError> Parse(string? attributes, string? excludedAttributes)
    {
        var included = ParseList(attributes, "attributes");
        if (!included.IsSuccess) return included.Error;
        var excluded = ParseList(excludedAttributes, "excludedAttributes");
        if (!excluded.IsSuccess) return excluded.Error;
        return new ScimAttributeProjection(included.Value, excluded.Value);
    }

    private static Result<IReadOnlyList<Selector>, ScimError> ParseList(string? list, string parameter)
    {
        var selectors = new List<Selector>();
        if (string.IsNullOrWhiteSpace(list)) return selectors;
        foreach (var raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ScimSchemas.All.FirstOrDefault(s => string.Equals(s.Id, raw, StringComparison.OrdinalIgnoreCase)) is { } schema)
            {
                selectors.Add(new Selector(schema.Id, "*", null));
                continue;
            }
            var path = ScimFilterParser.ParseAttributePath(raw);
            if (!path.IsSuccess) return ScimError.InvalidPath($"'{raw}' in '{parameter}' is not an attribute path: {path.Error}.");
            selectors.Add(new Selector(path.Value.SchemaUrn, path.Value.AttributeName, path.Value.SubAttributeName));
        }
        return selectors;
    }

    /// <summary>Whether the attribute would appear at all; lets a store skip loading group members.</summary>
    public bool Includes(ScimResourceType type, string attributeName)
    {
        var definition = type.Resolve(null, attributeName)?.Attribute;
        return Decide(type.Core.Id, type.Core.Id, attributeName, definition) is not Decision.Drop;
    }

    public JsonObject Apply(JsonObject resource, ScimResourceType type)
    {
        var result = new JsonObject();
        foreach (var (key, value) in resource)
        {
            if (key is "schemas" or "id")
            {
                result[key] = value?.DeepClone();
                continue;
            }
            if (key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) && value is JsonObject extensionValues)
            {
                var extension = type.FindExtension(key);
                var projected = new JsonObject();
                foreach (var (name, inner) in extensionValues)
                    Project(projected, key, type.Core.Id, name, extension?.FindAttribute(name), inner);
                if (projected.Count > 0) result[key] = projected;
                continue;
            }
            Project(result, type.Core.Id, type.Core.Id, key, type.Resolve(null, key)?.Attribute, value);
        }
        return result;
    }

    private enum Decision { Drop, Keep, Partial }

    private void Project(JsonObject target, string schema, string coreSchema, string name, ScimAttribute? definition, JsonNode? value)
    {
        switch (Decide(schema, coreSchema, name, definition))
        {
            case Decision.Keep:
                var kept = value?.DeepClone();
                // Sub-attributes listed in excludedAttributes go; the rest of the attribute stays.
                var excludedSubs = _excluded.Where(s => Matches(s, schema, coreSchema, name) && s.Sub is not null).Select(s => s.Sub!).ToList();
                if (excludedSubs.Count > 0) RemoveSubs(kept, excludedSubs);
                target[name] = kept;
                break;
            case Decision.Partial:
                var subs = _attributes.Where(s => Matches(s, schema, coreSchema, name) && s.Sub is not null).Select(s => s.Sub!).ToList();
                target[name] = KeepSubs(value, subs);
                break;
        }
    }

    private Decision Decide(string schema, string coreSchema, string name, ScimAttribute? definition)
    {
        var returned = definition?.Returned ?? ScimReturned.Default;
        if (returned == ScimReturned.Never) return Decision.Drop;
        if (returned == ScimReturned.Always) return Decision.Keep;
        if (_attributes.Count > 0)
        {
            var matching = _attributes.Where(s => Matches(s, schema, coreSchema, name)).ToList();
            if (matching.Count == 0) return Decision.Drop;
            return matching.Any(s => s.Sub is null) ? Decision.Keep : Decision.Partial;
        }
        if (returned == ScimReturned.Request) return Decision.Drop;
        return _excluded.Any(s => Matches(s, schema, coreSchema, name) && s.Sub is null) ? Decision.Drop : Decision.Keep;
    }

    private static bool Matches(Selector selector, string schema, string coreSchema, string name)
    {
        var selectorSchema = selector.Schema ?? coreSchema;
        if (!string.Equals(selectorSchema, schema, StringComparison.OrdinalIgnoreCase)) return false;
        return selector.Name == "*" || string.Equals(selector.Name, name, StringComparison.OrdinalIgnoreCase);
    }

    private static JsonNode? KeepSubs(JsonNode? value, List<string> subs) => value switch
    {
        JsonObject obj => Filtered(obj, subs),
        JsonArray array => new JsonArray(array.Select(item => item is JsonObject o ? (JsonNode)Filtered(o, subs) : item?.DeepClone()).ToArray()),
        _ => value?.DeepClone(),
    };

    private static JsonObject Filtered(JsonObject obj, List<string> subs)
    {
        var result = new JsonObject();
        foreach (var (key, inner) in obj)
            if (subs.Contains(key, StringComparer.OrdinalIgnoreCase)) result[key] = inner?.DeepClone();
        return result;
    }

    private static void RemoveSubs(JsonNode? value, List<string> subs)
    {
        IEnumerable<JsonObject> objects = value switch
        {
            JsonObject obj => new[] { obj },
            JsonArray array => array.OfType<JsonObject>(),
            _ => Array.Empty<JsonObject>(),
        };
        foreach (var obj in objects)
            foreach (var sub in subs)
                ScimJson.Remove(obj, sub);
    }
}
