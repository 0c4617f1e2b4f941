using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

public static class ClientEndpoints
{
    public const int MaxRedirectUris = 20;

    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("CreateClient", "/api/v1/clients", ["POST"], AdminApi.Require(CreateAsync)),
        new("GetClient", "/api/v1/clients/{clientId}", ["GET"], AdminApi.Require(GetAsync)),
        new("DeleteClient", "/api/v1/clients/{clientId}", ["DELETE"], AdminApi.Require(DeleteAsync)),
    ];

    private static async Task<IResult> CreateAsync(HttpContext context)
    {
        var request = await JsonResults.ReadAsync(context.Request, SsoJsonContext.Default.CreateClientRequest);
        if (!request.IsSuccess) return ProblemResults.Write(request.Error);
        var (name, redirectUris) = (request.Value.Name, request.Value.RedirectUris);
        var postLogoutRedirectUris = request.Value.PostLogoutRedirectUris ?? [];
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
            return ProblemResults.Write(Problem.Validation("'name' is required and must be at most 200 characters."));
        if (redirectUris is not { Length: > 0 })
            return ProblemResults.Write(Problem.Validation("'redirectUris' must list at least one redirect URI."));
        if (redirectUris.Length > MaxRedirectUris)
            return ProblemResults.Write(Problem.Validation($"A client may register at most {MaxRedirectUris} redirect URIs."));

        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        foreach (var uri in redirectUris)
        {
            var checkedUri = RedirectUriPolicy.Validate(uri, options.AllowLoopbackHttp);
            if (!checkedUri.IsSuccess) return ProblemResults.Write(Problem.Validation($"redirectUris: {checkedUri.Error}."));
        }
        if (postLogoutRedirectUris.Length > MaxRedirectUris)
            return ProblemResults.Write(Problem.Validation($"A client may register at most {MaxRedirectUris} post-logout redirect URIs."));
        foreach (var uri in postLogoutRedirectUris)
        {
            // The same rules as redirect URIs: an open redirector after logout is still an open redirector.
            var checkedUri = RedirectUriPolicy.Validate(uri, options.AllowLoopbackHttp);
            if (!checkedUri.IsSuccess) return ProblemResults.Write(Problem.Validation($"postLogoutRedirectUris: {checkedUri.Error}."));
        }

        var secret = OAuthClient.NewSecret();
        var clock = context.RequestServices.GetRequiredService<TimeProvider>();
        var client = new OAuthClient(ClientId.New(), name.Trim(), redirectUris.Distinct(StringComparer.Ordinal).ToArray(),
            OAuthClient.HashSecret(secret), clock.GetUtcNow())
        {
            PostLogoutRedirectUris = postLogoutRedirectUris.Distinct(StringComparer.Ordinal).ToArray(),
        };
        await context.RequestServices.GetRequiredService<ClientStore>().CreateAsync(client, context.RequestAborted);
        return JsonResults.Created($"/api/v1/clients/{client.Id}",
            new CreatedClient(client.Id.Value, secret, client.Name, client.RedirectUris.ToArray(), client.PostLogoutRedirectUris.ToArray(),
                client.CreatedAt),
            SsoJsonContext.Default.CreatedClient);
    }

    private static async Task<IResult> GetAsync(HttpContext context)
    {
        var raw = context.RouteString("clientId");
        if (!ClientId.TryParse(raw, out var id)
            || await context.RequestServices.GetRequiredService<ClientStore>().FindAsync(id, context.RequestAborted) is not { } client)
            return ProblemResults.Write(Problem.NotFound("client", raw));
        return JsonResults.Ok(client.ToView(), SsoJsonContext.Default.ClientView);
    }

    private static async Task<IResult> DeleteAsync(HttpContext context)
    {
        var raw = context.RouteString("clientId");
        if (!ClientId.TryParse(raw, out var id)
            || await context.RequestServices.GetRequiredService<ClientStore>().DeleteAsync(id, context.RequestAborted)
                == Storage.SaveOutcome.NotFound)
            return ProblemResults.Write(Problem.NotFound("client", raw));
        return Results.NoContent();
    }
}
