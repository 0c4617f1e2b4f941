using System.Text.Json;

namespace Sso.Protocols.Scim.Filter;

/// <summary>
/// A filter that names one resource by a unique or indexed attribute, e.g. <c>userName eq "x"</c>,
/// which every IdP sends before a create. The store answers it from index rows, then still applies
/// the whole filter to the candidate, so <c>userName eq "x" and active eq true</c> stays correct.
/// </summary>
public sealed record ScimPointLookup(string AttributeName, string Value)
{
    public static readonly IReadOnlyList<string> IndexedAttributes = ["id", "userName", "externalId", "displayName"];

    public static ScimPointLookup? Find(ScimFilter filter, ScimResourceType type) => filter switch
    {
        ScimFilter.Comparison { Operator: ScimComparisonOperator.Eq, Path.SubAttributeName: null } c
            when c.Value is { } value && value.GetValueKind() == JsonValueKind.String
              && (c.Path.SchemaUrn is null || string.Equals(c.Path.SchemaUrn, type.Core.Id, StringComparison.OrdinalIgnoreCase))
              && IndexedAttributes.FirstOrDefault(a => string.Equals(a, c.Path.AttributeName, StringComparison.OrdinalIgnoreCase)) is { } name
              && type.Resolve(null, name) is not null
            => new ScimPointLookup(name, value.GetValue<string>()),
        ScimFilter.And and => Find(and.Left, type) ?? Find(and.Right, type),
        _ => null,
    };
}
