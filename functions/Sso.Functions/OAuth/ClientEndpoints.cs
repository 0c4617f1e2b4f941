using Sso.Functions.Hosting;

namespace Sso.Functions.OAuth;

/// <summary><c>/api/v1/clients</c>: the OAuth clients, through <see cref="ClientSetup"/>.</summary>
public static class ClientEndpoints
{
    public const int MaxRedirectUris = ClientSetup.MaxRedirectUris;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateClient", "/api/v1/clients", ["POST"], AdminApi.Require(CreateAsync)),
        new("GetClient", "/api/v1/clients/{clientId}", ["GET"], AdminApi.Require(GetAsync)),
        new("DeleteClient", "/api/v1/clients/{clientId}", ["DELETE"], AdminApi.Require(DeleteAsync)),
    ];

    private static ClientSetup Setup(HttpContext context) => context.RequestServices.GetRequiredService<ClientSetup>();

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        var request = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.CreateClientRequest);
        if (!request.IsSuccess) return ProblemResults.Write(request.Error);
        var created = await Setup(context).CreateAsync(request.Value, context.RequestAborted);
        if (!created.TryGetValue(out var client, out var problem)) return ProblemResults.Write(problem);
        return JsonResults.Created($"/api/v1/clients/{client.ClientId}", client, SsoJsonContext.Default.CreatedClient);
    }

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        var found = await Setup(context).FindAsync(context.RouteString("clientId"), context.RequestAborted);
        return found.TryGetValue(out var client, out var problem)
            ? JsonResults.Ok(client, SsoJsonContext.Default.ClientView)
            : ProblemResults.Write(problem);
    }

    private static async Task<IResult> DeleteAsync(HttpContext context)
    {
        var deleted = await Setup(context).DeleteAsync(context.RouteString("clientId"), context.RequestAborted);
        return deleted.IsSuccess ? Results.NoContent() : ProblemResults.Write(deleted.Error);
    }
}
