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

    private static Task<IResult> UnknownPathAsync(HttpContext context, ScimRequestContext scim)
    {
        var path = context.RouteString("path");
        // A path that exists, asked with a method it does not take: 405 with Allow (RFC 9110 §15.5.6).
        if (MethodsAt(path) is { } allowed)
        {
            context.Response.Headers.Allow = string.Join(", ", allowed);
            return Task.FromResult(ScimResults.Error(ScimError.MethodNotAllowed(
                $"/{Truncate(path)} does not take {context.Request.Method}; it takes {string.Join(", ", allowed)}.")));
        }
        return Task.FromResult(ScimResults.Error(new ScimError(404, null,
            $"There is no SCIM endpoint at /{Truncate(path)}; this service offers /Users, /Groups, /ServiceProviderConfig, /Schemas and /ResourceTypes.")));
    }

    /// <summary>The methods the SCIM endpoint at <paramref name="path"/> takes, or null when there is none.</summary>
    public static IReadOnlyList<string>? MethodsAt(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length is 0 or > 2) return null;
        var collection = segments[0].ToLowerInvariant();
        return (collection, segments.Length) switch
        {
            ("users" or "groups", 1) => ["GET", "POST"],
            ("users" or "groups", 2) => ["GET", "PUT", "PATCH", "DELETE"],
            ("serviceproviderconfig", 1) => ["GET"],
            ("schemas" or "resourcetypes", _) => ["GET"],
            _ => null,
        };
    }

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
