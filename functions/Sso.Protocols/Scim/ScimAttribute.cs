namespace Sso.Protocols.Scim;

public enum ScimAttributeType { String, Boolean, Decimal, Integer, DateTime, Reference, Complex, Binary }

public enum ScimMutability { ReadOnly, ReadWrite, Immutable, WriteOnly }

public enum ScimReturned { Always, Never, Default, Request }

public enum ScimUniqueness { None, Server, Global }

/// <summary>An attribute definition as RFC 7643 §7 describes it.</summary>
public sealed record ScimAttribute(
    string Name,
    ScimAttributeType Type,
    bool MultiValued = false,
    bool CaseExact = false,
    ScimMutability Mutability = ScimMutability.ReadWrite,
    ScimReturned Returned = ScimReturned.Default,
    ScimUniqueness Uniqueness = ScimUniqueness.None,
    bool Required = false,
    string Description = "",
    IReadOnlyList<ScimAttribute>? SubAttributes = null,
    IReadOnlyList<string>? CanonicalValues = null,
    IReadOnlyList<string>? ReferenceTypes = null)
{
    public bool IsComplex => Type == ScimAttributeType.Complex;

    public ScimAttribute? FindSubAttribute(string name) =>
        SubAttributes?.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A schema (RFC 7643 §7): a URN and its attributes.</summary>
public sealed record ScimSchema(string Id, string Name, string Description, IReadOnlyList<ScimAttribute> Attributes)
{
    public ScimAttribute? FindAttribute(string name) =>
        Attributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Where an attribute lives: in the core schema (top level) or under an extension URN.</summary>
public sealed record ScimResolvedAttribute(ScimSchema Schema, ScimAttribute Attribute, bool IsExtension);

/// <summary>A resource type (RFC 7643 §6): its core schema and the extensions it allows.</summary>
public sealed record ScimResourceType(
    string Name, string Endpoint, string Description, ScimSchema Core, IReadOnlyList<ScimSchema> Extensions)
{
    /// <summary>
    /// Resolves an attribute by its optional schema URN and name (case-insensitive, RFC 7643 §2.1).
    /// Null when the schema is known but the attribute is not, or the URN is not a schema of this type.
    /// </summary>
    public ScimResolvedAttribute? Resolve(string? schemaUrn, string name)
    {
        if (schemaUrn is null || string.Equals(schemaUrn, Core.Id, StringComparison.OrdinalIgnoreCase))
        {
            if (ScimSchemas.CommonAttributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)) is { } common)
                return new(Core, common, false);
            return Core.FindAttribute(name) is { } core ? new(Core, core, false) : null;
        }
        var extension = FindExtension(schemaUrn);
        return extension?.FindAttribute(name) is { } attribute ? new(extension, attribute, true) : null;
    }

    public ScimSchema? FindExtension(string schemaUrn) =>
        Extensions.FirstOrDefault(e => string.Equals(e.Id, schemaUrn, StringComparison.OrdinalIgnoreCase));

    public bool IsCoreOrKnownExtension(string schemaUrn) =>
        string.Equals(schemaUrn, Core.Id, StringComparison.OrdinalIgnoreCase) || FindExtension(schemaUrn) is not null;
}
