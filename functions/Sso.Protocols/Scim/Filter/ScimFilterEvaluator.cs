using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sso.Protocols.Scim.Filter;

/// <summary>
/// Evaluates a filter against a resource (RFC 7644 §3.4.2.2): string comparisons honour the attribute's
/// <c>caseExact</c> (so <c>userName</c> compares case-insensitively), dateTime attributes compare as instants,
/// and a multi-valued attribute matches when any of its values does.
/// </summary>
public static class ScimFilterEvaluator
{
    public static bool Matches(ScimFilter filter, JsonObject resource) =>
        Matches(filter, resource, ScimSchemas.ResourceTypeOf(resource));

    public static bool Matches(ScimFilter filter, JsonObject resource, ScimResourceType type) =>
        Evaluate(filter, new Scope(resource, type, null));

    /// <summary>
    /// Evaluates the filter of a value path (<c>emails[type eq "work"]</c>) against one value of the
    /// multi-valued attribute <paramref name="attribute"/>; names in the filter are its sub-attributes.
    /// </summary>
    public static bool MatchesValue(ScimFilter filter, JsonObject value, ScimAttribute? attribute, ScimResourceType type) =>
        Evaluate(filter, new Scope(value, type, attribute ?? Untyped));

    private static readonly ScimAttribute Untyped = new("untyped", ScimAttributeType.Complex, SubAttributes: []);

    private sealed record Scope(JsonObject Json, ScimResourceType Type, ScimAttribute? Parent);

    private readonly record struct Candidate(JsonNode? Node, ScimAttribute? Definition);

    private static bool Evaluate(ScimFilter filter, Scope scope) => filter switch
    {
        ScimFilter.And and => Evaluate(and.Left, scope) && Evaluate(and.Right, scope),
        ScimFilter.Or or => Evaluate(or.Left, scope) || Evaluate(or.Right, scope),
        ScimFilter.Not not => !Evaluate(not.Inner, scope),
        ScimFilter.Present present => Values(present.Path, scope).Any(c => IsPresent(c.Node)),
        ScimFilter.Comparison comparison => Compare(comparison, scope),
        ScimFilter.ValuePath valuePath => EvaluateValuePath(valuePath, scope),
        _ => false,
    };

    private static bool EvaluateValuePath(ScimFilter.ValuePath valuePath, Scope scope)
    {
        var (node, definition) = Attribute(valuePath.Path with { SubAttributeName = null }, scope);
        IEnumerable<JsonNode?> elements = node switch { JsonArray array => array, JsonObject obj => new JsonNode?[] { obj }, _ => Array.Empty<JsonNode?>() };
        return elements.OfType<JsonObject>().Any(element => Evaluate(valuePath.Inner, new Scope(element, scope.Type, definition)));
    }

    private static bool Compare(ScimFilter.Comparison comparison, Scope scope)
    {
        var candidates = Values(comparison.Path, scope).Where(c => c.Node is not null).ToList();
        if (comparison.Value is null)
        {
            var present = candidates.Any(c => IsPresent(c.Node));
            return comparison.Operator == ScimComparisonOperator.Eq ? !present : present;
        }
        // ne is "not eq": a resource without the attribute is not equal to any value.
        if (comparison.Operator == ScimComparisonOperator.Ne)
            return !candidates.Any(c => CompareOne(c, ScimComparisonOperator.Eq, comparison.Value));
        return candidates.Any(c => CompareOne(c, comparison.Operator, comparison.Value));
    }

    private static bool CompareOne(Candidate candidate, ScimComparisonOperator op, JsonValue expected)
    {
        if (candidate.Node is not JsonValue actual) return false;
        var definition = candidate.Definition;
        switch (expected.GetValueKind())
        {
            case JsonValueKind.True or JsonValueKind.False:
                var actualBool = ScimJson.AsBoolean(actual);
                if (actualBool is null) return false;
                // RFC 7644 §3.4.2.2: booleans support only equality.
                return op == ScimComparisonOperator.Eq && actualBool == (expected.GetValueKind() == JsonValueKind.True);

            case JsonValueKind.Number:
                if (Number(actual) is not { } actualNumber || Number(expected) is not { } expectedNumber) return false;
                return Ordered(actualNumber.CompareTo(expectedNumber), op);

            case JsonValueKind.String:
                if (actual.GetValueKind() != JsonValueKind.String) return false;
                var actualText = actual.GetValue<string>();
                var expectedText = expected.GetValue<string>();
                if (definition?.Type == ScimAttributeType.DateTime && IsOrdering(op)
                    && TryInstant(actualText, out var actualInstant) && TryInstant(expectedText, out var expectedInstant))
                    return Ordered(actualInstant.CompareTo(expectedInstant), op);
                if (definition?.Type == ScimAttributeType.DateTime && op == ScimComparisonOperator.Eq
                    && TryInstant(actualText, out actualInstant) && TryInstant(expectedText, out expectedInstant))
                    return actualInstant == expectedInstant;
                // Unknown attributes (extension values) compare case-insensitively, the RFC 7643 default.
                var comparison = definition?.CaseExact == true ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
                return op switch
                {
                    ScimComparisonOperator.Eq => string.Equals(actualText, expectedText, comparison),
                    ScimComparisonOperator.Co => actualText.Contains(expectedText, comparison),
                    ScimComparisonOperator.Sw => actualText.StartsWith(expectedText, comparison),
                    ScimComparisonOperator.Ew => actualText.EndsWith(expectedText, comparison),
                    _ => Ordered(string.Compare(actualText, expectedText, comparison), op),
                };

            default:
                return false;
        }
    }

    private static decimal? Number(JsonValue value) =>
        value.GetValueKind() == JsonValueKind.Number
        && decimal.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number : null;

    private static bool IsOrdering(ScimComparisonOperator op) =>
        op is ScimComparisonOperator.Gt or ScimComparisonOperator.Ge or ScimComparisonOperator.Lt or ScimComparisonOperator.Le;

    private static bool Ordered(int order, ScimComparisonOperator op) => op switch
    {
        ScimComparisonOperator.Gt => order > 0,
        ScimComparisonOperator.Ge => order >= 0,
        ScimComparisonOperator.Lt => order < 0,
        ScimComparisonOperator.Le => order <= 0,
        ScimComparisonOperator.Eq => order == 0,
        _ => false,
    };

    private static bool TryInstant(string text, out DateTimeOffset instant) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant);

    private static bool IsPresent(JsonNode? node) => node switch
    {
        null => false,
        JsonArray array => array.Count > 0,
        JsonObject obj => obj.Count > 0,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>().Length > 0,
        JsonValue value => value.GetValueKind() != JsonValueKind.Null,
        _ => true,
    };

    /// <summary>The attribute node a path names (without its sub-attribute) and its definition.</summary>
    private static Candidate Attribute(ScimAttributePath path, Scope scope)
    {
        if (scope.Parent is { } parent)
            return new(ScimJson.Get(scope.Json, path.AttributeName), parent.FindSubAttribute(path.AttributeName));
        var resolved = scope.Type.Resolve(path.SchemaUrn, path.AttributeName);
        var inExtension = path.SchemaUrn is not null && !string.Equals(path.SchemaUrn, scope.Type.Core.Id, StringComparison.OrdinalIgnoreCase);
        var container = inExtension ? ScimJson.Get(scope.Json, path.SchemaUrn!) as JsonObject : scope.Json;
        return new(ScimJson.Get(container, path.AttributeName), resolved?.Attribute);
    }

    private static IEnumerable<Candidate> Values(ScimAttributePath path, Scope scope)
    {
        var (node, definition) = Attribute(path, scope);
        if (node is null) yield break;
        var subName = path.SubAttributeName;
        IEnumerable<JsonNode?> items = node is JsonArray array ? array : new[] { node };
        foreach (var item in items)
        {
            if (item is JsonObject complex)
            {
                // RFC 7644 §3.4.2.2: a complex attribute without a sub-attribute compares its "value".
                var name = subName ?? "value";
                yield return new(ScimJson.Get(complex, name), definition?.FindSubAttribute(name));
            }
            else if (subName is null)
            {
                yield return new(item, definition);
            }
        }
    }
}
