using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Functions.Tenants;

namespace Sso.Functions.Connections;

public static class ConnectionEndpoints
{
    private const string Base = "/api/v1/tenants/{tenantId}/connections";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateConnection", Base, ["POST"], AdminApi.Require(CreateAsync)),
        new("ListConnections", Base, ["GET"], AdminApi.Require(ListAsync)),
        new("GetConnection", Base + "/{connectionId}", ["GET"], AdminApi.Require(GetAsync)),
        new("UpdateConnection", Base + "/{connectionId}", ["PATCH"], AdminApi.Require(UpdateAsync)),
        new("DeleteConnection", Base + "/{connectionId}", ["DELETE"], AdminApi.Require(DeleteAsync)),
        new("RefreshConnectionMetadata", Base + "/{connectionId}/refresh-metadata", ["POST"], AdminApi.Require(RefreshMetadataAsync)),
        new("ConfirmConnection", Base + "/{connectionId}/confirm", ["POST"], AdminApi.Require(ConfirmAsync)),
    ];

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var body = await ReadObjectAsync(context);
        if (!body.IsSuccess) return ProblemResults.Write(body.Error);
        var created = await Setup(context).CreateAsync(tenant, body.Value, context.RequestAborted);
        if (!created.IsSuccess) return ProblemResults.Write(created.Error);
        var connection = created.Value;
        return JsonResults.Created($"/api/v1/tenants/{tenant.Id}/connections/{connection.Id}",
            await Views(context).ViewAsync(connection, context.RequestAborted), SsoJsonContext.Default.JsonObject);
    }

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (await FindTenantAsync(context) is not { } tenant) return TenantNotFound(context);
        var connections = await context.RequestServices.GetRequiredService<ConnectionStore>().ListAsync(tenant.Id, context.RequestAborted);
        var views = Views(context);
        var list = new JsonObject
        {
            ["data"] = new JsonArray(connections.Select(c => (JsonNode?)views.View(c, connections)).ToArray()),
            ["nextCursor"] = null,
        };
        return JsonResults.Ok(list, SsoJsonContext.Default.JsonObject);
    }

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        if (!TryReadIds(context, out var tenantId, out var connectionId)
            || await context.RequestServices.GetRequiredService<ConnectionStore>().FindAsync(tenantId, connectionId, context.RequestAborted)
                is not { } connection)
            return ConnectionNotFound(context);
        return await ViewAsync(context, connection);
    }

    private static async Task<IResult> UpdateAsync(HttpContext context)
    {
        var body = await ReadObjectAsync(context);
        if (!body.IsSuccess) return ProblemResults.Write(body.Error);
        if (!TryReadIds(context, out var tenantId, out var connectionId)) return ConnectionNotFound(context);
        return await WriteAsync(context, await Setup(context).UpdateAsync(tenantId, connectionId, body.Value, context.RequestAborted));
    }

    private static async Task<IResult> RefreshMetadataAsync(HttpContext context)
    {
        if (!TryReadIds(context, out var tenantId, out var connectionId)) return ConnectionNotFound(context);
        return await WriteAsync(context, await Setup(context).RefreshMetadataAsync(tenantId, connectionId, context.RequestAborted));
    }

    private static async Task<IResult> DeleteAsync(HttpContext context)
    {
        if (!TryReadIds(context, out var tenantId, out var connectionId)) return ConnectionNotFound(context);
        var deleted = await Setup(context).DeleteAsync(tenantId, connectionId, context.RequestAborted);
        if (deleted.IsSuccess) return Results.NoContent();
        return deleted.Error.Status == 404 ? ConnectionNotFound(context) : ProblemResults.Write(deleted.Error);
    }

    /// <summary>POST .../connections/{id}/confirm: see <see cref="ConnectionSetup.ConfirmAsync"/>.</summary>
    private static async Task<IResult> ConfirmAsync(HttpContext context)
    {
        if (!TryReadIds(context, out var tenantId, out var connectionId)) return ConnectionNotFound(context);
        return await WriteAsync(context, await Setup(context).ConfirmAsync(tenantId, connectionId, context.RequestAborted));
    }

    /// <summary>The connection's view, or the problem; a 404 names the connection as the route spelled it.</summary>
    private static async Task<IResult> WriteAsync(HttpContext context, Result<Connection, Problem> result)
    {
        if (result.IsSuccess) return await ViewAsync(context, result.Value);
        return result.Error.Status == 404 ? ConnectionNotFound(context) : ProblemResults.Write(result.Error);
    }

    private static async Task<IResult> ViewAsync(HttpContext context, Connection connection) =>
        JsonResults.Ok(await Views(context).ViewAsync(connection, context.RequestAborted), SsoJsonContext.Default.JsonObject);

    private static ConnectionSetup Setup(HttpContext context) => context.RequestServices.GetRequiredService<ConnectionSetup>();

    private static ConnectionViews Views(HttpContext context) => context.RequestServices.GetRequiredService<ConnectionViews>();

    private static async Task<Result<JsonObject, Problem>> ReadObjectAsync(HttpContext context)
    {
        const int limit = 1024 * 1024 + 64 * 1024; // room for pasted IdP metadata
        if (context.Request.ContentType is { } contentType && !JsonResults.IsJson(contentType))
            return Problem.UnsupportedMediaType();
        var bytes = await context.Request.ReadBodyBytesAsync(limit, context.RequestAborted);
        if (bytes is null) return Problem.PayloadTooLarge(limit);
        if (bytes.Length == 0) return Problem.InvalidJson("The request body is empty.");
        try
        {
            return JsonNode.Parse(bytes) is JsonObject body
                ? body
                : Problem.InvalidJson("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            return JsonResults.DescribeJsonException(e);
        }
    }

    private static async Task<Tenant?> FindTenantAsync(HttpContext context)
    {
        var raw = context.RouteString("tenantId");
        if (!TenantId.TryParse(raw, out var id)) return null;
        context.Items[RequestPipeline.TenantItem] = id.Value;
        return await context.RequestServices.GetRequiredService<TenantStore>().FindAsync(id, context.RequestAborted);
    }

    private static bool TryReadIds(HttpContext context, out TenantId tenantId, out ConnectionId connectionId)
    {
        connectionId = default;
        if (!TenantId.TryParse(context.RouteString("tenantId"), out tenantId)
            || !ConnectionId.TryParse(context.RouteString("connectionId"), out connectionId))
            return false;
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        return true;
    }

    private static IResult TenantNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("tenant", context.RouteString("tenantId")));

    private static IResult ConnectionNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("connection", context.RouteString("connectionId")));
}
