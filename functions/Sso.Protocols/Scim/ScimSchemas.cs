using System.Text.Json.Nodes;
using T = Sso.Protocols.Scim.ScimAttributeType;

namespace Sso.Protocols.Scim;

/// <summary>Schema URNs and the attribute definitions of User, EnterpriseUser and Group (RFC 7643 §4, §8.7).</summary>
public static class ScimSchemas
{
    public const string User = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string Group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string EnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string ListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string SearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    public const string Error = "urn:ietf:params:scim:api:messages:2.0:Error";
    public const string ServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    public const string ResourceTypeSchema = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    public const string SchemaSchema = "urn:ietf:params:scim:schemas:core:2.0:Schema";

    private static ScimAttribute Str(string name, string description = "", bool caseExact = false,
        ScimMutability mutability = ScimMutability.ReadWrite, ScimReturned returned = ScimReturned.Default,
        ScimUniqueness uniqueness = ScimUniqueness.None, bool required = false, string[]? canonical = null) =>
        new(name, T.String, CaseExact: caseExact, Mutability: mutability, Returned: returned,
            Uniqueness: uniqueness, Required: required, Description: description, CanonicalValues: canonical);

    private static ScimAttribute Bool(string name, string description = "") => new(name, T.Boolean, Description: description);

    private static ScimAttribute Ref(string name, string[] referenceTypes, string description = "",
        ScimMutability mutability = ScimMutability.ReadWrite) =>
        new(name, T.Reference, CaseExact: true, Mutability: mutability, Description: description, ReferenceTypes: referenceTypes);

    private static ScimAttribute Complex(string name, string description, bool multiValued, params ScimAttribute[] subAttributes) =>
        new(name, T.Complex, MultiValued: multiValued, Description: description, SubAttributes: subAttributes);

    // RFC 7643 §2.4: the default sub-attributes of a multi-valued attribute.
    private static ScimAttribute MultiValued(string name, string description, string[]? types,
        ScimAttributeType valueType = T.String, string[]? referenceTypes = null) =>
        Complex(name, description, true,
            new ScimAttribute("value", valueType, Description: $"The {name} value.", ReferenceTypes: referenceTypes),
            Str("display", "A human-readable name, primarily used for display purposes."),
            Str("type", "A label indicating the attribute's function.", canonical: types),
            Bool("primary", "Indicates the primary or preferred value for this attribute."));

    /// <summary>RFC 7643 §3.1: attributes every resource has, outside any schema's attribute list.</summary>
    public static readonly IReadOnlyList<ScimAttribute> CommonAttributes =
    [
        Str("id", "Unique identifier for the resource, assigned by the service provider.", caseExact: true,
            mutability: ScimMutability.ReadOnly, returned: ScimReturned.Always, uniqueness: ScimUniqueness.Server),
        Str("externalId", "An identifier for the resource as defined by the provisioning client.", caseExact: true),
        new("meta", T.Complex, Mutability: ScimMutability.ReadOnly, Description: "Resource metadata.",
            SubAttributes:
            [
                Str("resourceType", caseExact: true, mutability: ScimMutability.ReadOnly),
                new("created", T.DateTime, Mutability: ScimMutability.ReadOnly),
                new("lastModified", T.DateTime, Mutability: ScimMutability.ReadOnly),
                new("location", T.Reference, CaseExact: true, Mutability: ScimMutability.ReadOnly, ReferenceTypes: ["uri"]),
                Str("version", caseExact: true, mutability: ScimMutability.ReadOnly),
            ]),
    ];

    public static readonly ScimSchema UserSchema = new(User, "User", "User Account",
    [
        Str("userName", "Unique identifier for the User, typically used by the user to directly authenticate.",
            required: true, uniqueness: ScimUniqueness.Server),
        Complex("name", "The components of the user's real name.", false,
            Str("formatted"), Str("familyName"), Str("givenName"), Str("middleName"),
            Str("honorificPrefix"), Str("honorificSuffix")),
        Str("displayName", "The name of the User, suitable for display to end-users."),
        Str("nickName", "The casual way to address the user in real life."),
        Ref("profileUrl", ["external"], "A fully qualified URL pointing to a page representing the User's online profile."),
        Str("title", "The user's title, such as \"Vice President\"."),
        Str("userType", "Used to identify the relationship between the organization and the user."),
        Str("preferredLanguage", "Indicates the User's preferred written or spoken language."),
        Str("locale", "Used to indicate the User's default location for localizing items."),
        Str("timezone", "The User's time zone in the 'Olson' time zone database format."),
        Bool("active", "A T.Boolean value indicating the User's administrative status."),
        Str("password", "The User's cleartext password. This service never stores or returns it.",
            mutability: ScimMutability.WriteOnly, returned: ScimReturned.Never),
        MultiValued("emails", "Email addresses for the user.", ["work", "home", "other"]),
        MultiValued("phoneNumbers", "Phone numbers for the User.", ["work", "home", "mobile", "fax", "pager", "other"]),
        MultiValued("ims", "Instant messaging addresses for the User.", ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
        MultiValued("photos", "URLs of photos of the User.", ["photo", "thumbnail"], T.Reference, ["external"]),
        Complex("addresses", "A physical mailing address for this User.", true,
            Str("formatted"), Str("streetAddress"), Str("locality"), Str("region"), Str("postalCode"), Str("country"),
            Str("type", canonical: ["work", "home", "other"]), Bool("primary")),
        new("groups", T.Complex, MultiValued: true, Mutability: ScimMutability.ReadOnly,
            Description: "The groups the user is a direct member of; nested groups are not expanded, so every type is \"direct\". Read-only: change membership through /Groups.",
            SubAttributes:
            [
                Str("value", mutability: ScimMutability.ReadOnly),
                Ref("$ref", ["User", "Group"], mutability: ScimMutability.ReadOnly),
                Str("display", mutability: ScimMutability.ReadOnly),
                Str("type", mutability: ScimMutability.ReadOnly, canonical: ["direct", "indirect"]),
            ]),
        MultiValued("entitlements", "A list of entitlements for the User.", null),
        MultiValued("roles", "A list of roles for the User.", null),
        MultiValued("x509Certificates", "A list of certificates issued to the User.", null, T.Binary),
    ]);

    public static readonly ScimSchema EnterpriseUserSchema = new(EnterpriseUser, "EnterpriseUser", "Enterprise User",
    [
        Str("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
        Str("costCenter", "Identifies the name of a cost center."),
        Str("organization", "Identifies the name of an organization."),
        Str("division", "Identifies the name of a division."),
        Str("department", "Identifies the name of a department."),
        Complex("manager", "The User's manager.", false,
            Str("value", "The id of the SCIM resource representing the User's manager.", caseExact: true),
            Ref("$ref", ["User"], "The URI of the SCIM resource representing the User's manager."),
            Str("displayName", "The displayName of the User's manager.", mutability: ScimMutability.ReadOnly)),
    ]);

    public static readonly ScimSchema GroupSchema = new(Group, "Group", "Group",
    [
        Str("displayName", "A human-readable name for the Group.", required: true),
        new("members", T.Complex, MultiValued: true, Description: "A list of members of the Group.",
            SubAttributes:
            [
                Str("value", "Identifier of the member of this Group.", caseExact: true, mutability: ScimMutability.Immutable),
                Ref("$ref", ["User", "Group"], "The URI corresponding to a SCIM resource that is a member of this Group.",
                    ScimMutability.Immutable),
                Str("display", "The member's userName, set by the service provider.", mutability: ScimMutability.ReadOnly),
                Str("type", "A label indicating the type of resource.", mutability: ScimMutability.Immutable,
                    canonical: ["User", "Group"]),
            ]),
    ]);

    public static readonly ScimResourceType UserResource =
        new("User", "/Users", "User Account", UserSchema, [EnterpriseUserSchema]);

    public static readonly ScimResourceType GroupResource = new("Group", "/Groups", "Group", GroupSchema, []);

    public static IReadOnlyList<ScimSchema> All { get; } = [UserSchema, EnterpriseUserSchema, GroupSchema];

    public static IReadOnlyList<ScimResourceType> ResourceTypes { get; } = [UserResource, GroupResource];

    /// <summary>The resource type a resource declares in <c>schemas</c>; User when it declares neither.</summary>
    public static ScimResourceType ResourceTypeOf(JsonObject resource)
    {
        if (resource["schemas"] is JsonArray schemas)
            foreach (var schema in schemas)
                if (schema is JsonValue v && v.TryGetValue<string>(out var urn) && string.Equals(urn, Group, StringComparison.OrdinalIgnoreCase))
                    return GroupResource;
        return UserResource;
    }

    // ---- discovery documents (RFC 7643 §5, §6, §7) ----

    /// <summary>The <c>/Schemas/{id}</c> representation.</summary>
    public static JsonObject RenderSchema(ScimSchema schema, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(SchemaSchema),
        ["id"] = schema.Id,
        ["name"] = schema.Name,
        ["description"] = schema.Description,
        ["attributes"] = new JsonArray(schema.Attributes.Select(a => (JsonNode)RenderAttribute(a)).ToArray()),
        ["meta"] = new JsonObject { ["resourceType"] = "Schema", ["location"] = $"{baseUrl}/Schemas/{schema.Id}" },
    };

    private static JsonObject RenderAttribute(ScimAttribute attribute)
    {
        var json = new JsonObject
        {
            ["name"] = attribute.Name,
            ["type"] = attribute.Type switch { T.DateTime => "dateTime", _ => attribute.Type.ToString().ToLowerInvariant() },
            ["multiValued"] = attribute.MultiValued,
            ["description"] = attribute.Description,
            ["required"] = attribute.Required,
        };
        if (attribute.Type is T.String or T.Reference or T.Binary) json["caseExact"] = attribute.CaseExact;
        if (attribute.CanonicalValues is { } canonical)
            json["canonicalValues"] = new JsonArray(canonical.Select(c => (JsonNode)JsonValue.Create(c)).ToArray());
        if (attribute.ReferenceTypes is { } referenceTypes)
            json["referenceTypes"] = new JsonArray(referenceTypes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray());
        json["mutability"] = attribute.Mutability switch
        {
            ScimMutability.ReadOnly => "readOnly", ScimMutability.Immutable => "immutable",
            ScimMutability.WriteOnly => "writeOnly", _ => "readWrite",
        };
        json["returned"] = attribute.Returned.ToString().ToLowerInvariant();
        if (attribute.Type is T.String or T.Reference or T.Binary)
            json["uniqueness"] = attribute.Uniqueness.ToString().ToLowerInvariant();
        if (attribute.SubAttributes is { } subAttributes)
            json["subAttributes"] = new JsonArray(subAttributes.Select(a => (JsonNode)RenderAttribute(a)).ToArray());
        return json;
    }

    /// <summary>The <c>/ResourceTypes/{name}</c> representation.</summary>
    public static JsonObject RenderResourceType(ScimResourceType type, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(ResourceTypeSchema),
        ["id"] = type.Name,
        ["name"] = type.Name,
        ["endpoint"] = type.Endpoint,
        ["description"] = type.Description,
        ["schema"] = type.Core.Id,
        ["schemaExtensions"] = new JsonArray(type.Extensions
            .Select(e => (JsonNode)new JsonObject { ["schema"] = e.Id, ["required"] = false }).ToArray()),
        ["meta"] = new JsonObject { ["resourceType"] = "ResourceType", ["location"] = $"{baseUrl}/ResourceTypes/{type.Name}" },
    };

    /// <summary>
    /// What this server supports, truthfully (RFC 7643 §5): PATCH, filter, ETags; no bulk, sort or password change.
    /// </summary>
    public static JsonObject RenderServiceProviderConfig(string baseUrl, int maxFilterResults, string? documentationUri = null)
    {
        var config = new JsonObject
        {
            ["schemas"] = new JsonArray(ServiceProviderConfig),
            ["patch"] = new JsonObject { ["supported"] = true },
            ["bulk"] = new JsonObject { ["supported"] = false, ["maxOperations"] = 0, ["maxPayloadSize"] = 0 },
            ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = maxFilterResults },
            ["changePassword"] = new JsonObject { ["supported"] = false },
            ["sort"] = new JsonObject { ["supported"] = false },
            ["etag"] = new JsonObject { ["supported"] = true },
            ["authenticationSchemes"] = new JsonArray(new JsonObject
            {
                ["type"] = "oauthbearertoken",
                ["name"] = "OAuth Bearer Token",
                ["description"] = "Authentication with the directory's SCIM token, sent as an RFC 6750 bearer token.",
                ["specUri"] = "https://www.rfc-editor.org/rfc/rfc6750",
                ["primary"] = true,
            }),
            ["meta"] = new JsonObject { ["resourceType"] = "ServiceProviderConfig", ["location"] = $"{baseUrl}/ServiceProviderConfig" },
        };
        if (documentationUri is not null) config["documentationUri"] = documentationUri;
        return config;
    }

    /// <summary>A ListResponse (RFC 7644 §3.4.2).</summary>
    public static JsonObject RenderListResponse(IEnumerable<JsonNode> resources, int totalResults, int startIndex)
    {
        var array = new JsonArray(resources.ToArray());
        return new JsonObject
        {
            ["schemas"] = new JsonArray(ListResponse),
            ["totalResults"] = totalResults,
            ["startIndex"] = startIndex,
            ["itemsPerPage"] = array.Count,
            ["Resources"] = array,
        };
    }
}
