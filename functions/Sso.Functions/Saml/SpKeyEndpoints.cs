using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.Storage;

namespace Sso.Functions.Saml;

/// <summary>
/// Rollover of a SAML connection's SP keys: rotate adds a new current key (it signs AuthnRequests
/// and is published first in the SP metadata) beside the old ones, which keep decrypting until
/// they are retired, once the IdP has the new certificate.
/// </summary>
public static class SpKeyEndpoints
{
    private const string Base = "/api/v1/tenants/{tenantId}/connections/{connectionId}/sp-keys";

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("ListSpKeys", Base, ["GET"], AdminApi.Require(ListAsync)),
        new("RotateSpKey", Base + "/rotate", ["POST"], AdminApi.Require(RotateAsync)),
        new("RetireSpKey", Base + "/{keyId}", ["DELETE"], AdminApi.Require(RetireAsync)),
    ];

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        if (await FindSamlConnectionAsync(context) is not { } connection) return ConnectionNotFound(context);
        var keys = await context.RequestServices.GetRequiredService<SamlServiceProviderKeys>().ListAsync(connection.Id, context.RequestAborted);
        return JsonResults.Ok(new SpKeyList(keys.Select((k, i) => View(k, i == 0)).ToArray()), SsoJsonContext.Default.SpKeyList);
    }

    private static async Task<IResult> RotateAsync(HttpContext context)
    {
        if (await FindSamlConnectionAsync(context) is not { } connection) return ConnectionNotFound(context);
        var keys = context.RequestServices.GetRequiredService<SamlServiceProviderKeys>();
        await keys.GetKeysAsync(connection.Id, context.RequestAborted);  // a connection's first key exists before its second
        if (await keys.TryRotateAsync(connection.Id, context.RequestAborted) is not { } fresh)
            return ProblemResults.Write(Problem.Conflict(
                $"The connection holds {SamlServiceProviderKeys.MaxKeys} SP keys; retire a previous key before rotating again."));
        return JsonResults.Created($"/api/v1/tenants/{connection.TenantId}/connections/{connection.Id}/sp-keys/{fresh.Id}",
            View(fresh, current: true), SsoJsonContext.Default.SpKeyView);
    }

    private static async Task<IResult> RetireAsync(HttpContext context)
    {
        if (await FindSamlConnectionAsync(context) is not { } connection) return ConnectionNotFound(context);
        var keyId = context.RouteString("keyId");
        return await context.RequestServices.GetRequiredService<SamlServiceProviderKeys>()
                .RetireAsync(connection.Id, keyId, context.RequestAborted) switch
            {
                SamlServiceProviderKeys.RetireOutcome.Retired => Results.NoContent(),
                SamlServiceProviderKeys.RetireOutcome.Current => ProblemResults.Write(new Problem(409, "current-key",
                    "The current SP key cannot be retired", $"'{keyId}' signs this connection's AuthnRequests; rotate first, then retire it.")),
                _ => ProblemResults.Write(Problem.NotFound("SP key", keyId)),
            };
    }

    private static SpKeyView View(SpKey key, bool current) => new(key.Id, key.CreatedAt, key.NotAfter, current ? "current" : "previous");

    private static async Task<Connection?> FindSamlConnectionAsync(HttpContext context)
    {
        if (!TenantId.TryParse(context.RouteString("tenantId"), out var tenantId)) return null;
        if (!ConnectionId.TryParse(context.RouteString("connectionId"), out var connectionId)) return null;
        context.Items[RequestPipeline.TenantItem] = tenantId.Value;
        var connection = await context.RequestServices.GetRequiredService<ConnectionStore>().FindAsync(tenantId, connectionId, context.RequestAborted);
        return connection?.Type == ConnectionTypes.Saml ? connection : null;
    }

    private static IResult ConnectionNotFound(HttpContext context) =>
        ProblemResults.Write(Problem.NotFound("SAML connection", context.RouteString("connectionId")));
}

public sealed record SpKeyView(string Id, DateTimeOffset CreatedAt, DateTimeOffset NotAfter, string Status);

public sealed record SpKeyList(SpKeyView[] Data);
