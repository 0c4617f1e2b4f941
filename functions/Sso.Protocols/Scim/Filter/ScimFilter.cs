using System.Text.Json.Nodes;

namespace Sso.Protocols.Scim.Filter;

/// <summary>
/// An attribute path (RFC 7644 §3.10 / §3.4.2.2 <c>attrPath</c>): an optional schema URN, an attribute
/// name and an optional sub-attribute. Names keep the case the client sent; matching is case-insensitive.
/// </summary>
public sealed record ScimAttributePath(string? SchemaUrn, string AttributeName, string? SubAttributeName = null)
{
    public override string ToString() =>
        (SchemaUrn is null ? "" : SchemaUrn + ":") + AttributeName + (SubAttributeName is null ? "" : "." + SubAttributeName);

    public bool Is(string attributeName) =>
        SubAttributeName is null && string.Equals(AttributeName, attributeName, StringComparison.OrdinalIgnoreCase);
}

public enum ScimComparisonOperator { Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le }

/// <summary>The filter AST (RFC 7644 §3.4.2.2).</summary>
public abstract record ScimFilter
{
    /// <summary><c>attrPath compareOp compValue</c>; <see cref="Value"/> is null for the JSON literal <c>null</c>.</summary>
    public sealed record Comparison(ScimAttributePath Path, ScimComparisonOperator Operator, JsonValue? Value) : ScimFilter;

    /// <summary><c>attrPath pr</c></summary>
    public sealed record Present(ScimAttributePath Path) : ScimFilter;

    public sealed record And(ScimFilter Left, ScimFilter Right) : ScimFilter;

    public sealed record Or(ScimFilter Left, ScimFilter Right) : ScimFilter;

    public sealed record Not(ScimFilter Inner) : ScimFilter;

    /// <summary>
    /// <c>attrPath "[" valFilter "]"</c>: <see cref="Inner"/> is evaluated against each value of the
    /// multi-valued attribute <see cref="Path"/>; its attribute names are sub-attributes of it.
    /// </summary>
    public sealed record ValuePath(ScimAttributePath Path, ScimFilter Inner) : ScimFilter;

    /// <summary>Whether the filter looks at the (top-level) attribute, e.g. <c>groups</c> in <c>groups[display eq "Admins"]</c>.</summary>
    public bool Mentions(string attributeName) => this switch
    {
        Comparison c => string.Equals(c.Path.AttributeName, attributeName, StringComparison.OrdinalIgnoreCase),
        Present p => string.Equals(p.Path.AttributeName, attributeName, StringComparison.OrdinalIgnoreCase),
        ValuePath v => string.Equals(v.Path.AttributeName, attributeName, StringComparison.OrdinalIgnoreCase),
        And a => a.Left.Mentions(attributeName) || a.Right.Mentions(attributeName),
        Or o => o.Left.Mentions(attributeName) || o.Right.Mentions(attributeName),
        Not n => n.Inner.Mentions(attributeName),
        _ => false,
    };
}
