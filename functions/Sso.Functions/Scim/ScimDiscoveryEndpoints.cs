using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Protocols.Scim;

namespace Sso.Functions.Scim;

/// <summary>/ServiceProviderConfig, /Schemas and /ResourceTypes (RFC 7644 §4), behind the directory token like every SCIM route.</summary>
public static class ScimDiscoveryEndpoints
{
    public const string Base = "/scim/v2/{directoryId}";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ScimServiceProviderConfig", Base + "/ServiceProviderConfig", ["GET"], ScimAuthentication.Require(ServiceProviderConfigAsync)),
        new("ScimListSchemas", Base + "/Schemas", ["GET"], ScimAuthentication.Require(SchemasAsync)),
        new("ScimGetSchema", Base + "/Schemas/{schemaId}", ["GET"], ScimAuthentication.Require(SchemaAsync)),
        new("ScimListResourceTypes", Base + "/ResourceTypes", ["GET"], ScimAuthentication.Require(ResourceTypesAsync)),
        new("ScimGetResourceType", Base + "/ResourceTypes/{resourceType}", ["GET"], ScimAuthentication.Require(ResourceTypeAsync)),
        // Anything else under a directory (Bulk, Me, a typo) is a SCIM 404, not an empty one.
        new("ScimUnknownPath", Base + "/{*path}", ["GET", "POST", "PUT", "PATCH", "DELETE"], ScimAuthentication.Require(UnknownPathAsync)),
    ];

    private static string Truncate(string path) => path.Length <= 80 ? path : path[..80] + "…";

    private static Task<IResult> UnknownPathAsync(HttpContext context, ScimRequestContext scim) =>
        Task.FromResult(ScimResults.Error(new ScimError(404, null,
            $"There is no SCIM endpoint at /{Truncate(context.RouteString("path"))}; this service offers /Users, /Groups, /ServiceProviderConfig, /Schemas and /ResourceTypes.")));

    private static Task<IResult> ServiceProviderConfigAsync(HttpContext context, ScimRequestContext scim) =>
        Task.FromResult(ScimResults.Json(ScimSchemas.RenderServiceProviderConfig(scim.BaseUrl, ScimUserEndpoints.MaxResults)));

    private static Task<IResult> SchemasAsync(HttpContext context, ScimRequestContext scim)
    {
        var schemas = ScimSchemas.All.Select(s => (JsonNode)ScimSchemas.RenderSchema(s, scim.BaseUrl)).ToList();
        return Task.FromResult(ScimResults.Json(ScimSchemas.RenderListResponse(schemas, schemas.Count, 1)));
    }

    private static Task<IResult> SchemaAsync(HttpContext context, ScimRequestContext scim)
    {
        var id = context.RouteString("schemaId");
        var schema = ScimSchemas.All.FirstOrDefault(s => string.Equals(s.Id, id, StringComparison.OrdinalIgnoreCase));
        return Task.FromResult(schema is null
            ? ScimResults.Error(ScimError.NotFound(id))
            : ScimResults.Json(ScimSchemas.RenderSchema(schema, scim.BaseUrl)));
    }

    private static Task<IResult> ResourceTypesAsync(HttpContext context, ScimRequestContext scim)
    {
        var types = ScimSchemas.ResourceTypes.Select(t => (JsonNode)ScimSchemas.RenderResourceType(t, scim.BaseUrl)).ToList();
        return Task.FromResult(ScimResults.Json(ScimSchemas.RenderListResponse(types, types.Count, 1)));
    }

    private static Task<IResult> ResourceTypeAsync(HttpContext context, ScimRequestContext scim)
    {
        var name = context.RouteString("resourceType");
        var type = ScimSchemas.ResourceTypes.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
        return Task.FromResult(type is null
            ? ScimResults.Error(ScimError.NotFound(name))
            : ScimResults.Json(ScimSchemas.RenderResourceType(type, scim.BaseUrl)));
    }
}
