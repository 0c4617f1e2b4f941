using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Protocols.Scim.Filter;
using Sso.Protocols.Scim.Patch;

namespace Sso.Protocols.Scim;

/// <summary>
/// Reads the string values at an attribute path of a resource, e.g. a tenant's role attribute
/// <c>urn:…:extension:acme:2.0:User:role</c> or <c>roles[primary eq true].value</c>.
/// </summary>
public static class ScimAttributeReader
{
    public static IReadOnlyList<string> Strings(JsonObject resource, string path, ScimResourceType type)
    {
        var parsed = ScimPatchPath.Parse(path);
        if (!parsed.IsSuccess) return [];
        var attribute = parsed.Value.Attribute;
        var isCore = attribute.SchemaUrn is null || string.Equals(attribute.SchemaUrn, type.Core.Id, StringComparison.OrdinalIgnoreCase);
        var container = isCore ? resource : ScimJson.Get(resource, attribute.SchemaUrn!) as JsonObject;
        var definition = type.Resolve(attribute.SchemaUrn, attribute.AttributeName)?.Attribute;
        var node = ScimJson.Get(container, attribute.AttributeName);
        IEnumerable<JsonNode?> values = node is JsonArray array ? array : new[] { node };
        if (parsed.Value.ValueFilter is { } filter)
            values = values.Where(v => v is JsonObject o && ScimFilterEvaluator.MatchesValue(filter, o, definition, type));
        var sub = parsed.Value.SubAttribute;
        var result = new List<string>();
        foreach (var value in values)
        {
            var leaf = value is JsonObject complex ? ScimJson.Get(complex, sub ?? "value") : sub is null ? value : null;
            if (leaf is JsonValue text && text.GetValueKind() == JsonValueKind.String && text.GetValue<string>() is { Length: > 0 } s)
                result.Add(s);
            else if (leaf is JsonArray strings)
                result.AddRange(strings.OfType<JsonValue>().Where(v => v.GetValueKind() == JsonValueKind.String).Select(v => v.GetValue<string>()));
        }
        return result;
    }
}
