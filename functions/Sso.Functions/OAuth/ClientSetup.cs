using Sso.Functions.Hosting;
using Sso.Functions.Storage;
using Sso.Protocols.OAuth;

namespace Sso.Functions.OAuth;

/// <summary>
/// The OAuth clients of the management API: register (the secret is shown once, only its hash
/// is kept), read and delete, with the API's messages. No HTTP.
/// </summary>
public sealed class ClientSetup(ClientStore clients, SsoOptions options, TimeProvider clock)
{
    public const int MaxRedirectUris = 20;

    public async Task<Result<CreatedClient, Problem>> CreateAsync(CreateClientRequest request, CancellationToken cancellationToken)
    {
        var (name, redirectUris) = (request.Name, request.RedirectUris);
        var postLogoutRedirectUris = request.PostLogoutRedirectUris ?? [];
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
            return Problem.Validation("'name' is required and must be at most 200 characters.");
        if (redirectUris is not { Length: > 0 })
            return Problem.Validation("'redirectUris' must list at least one redirect URI.");
        if (redirectUris.Length > MaxRedirectUris)
            return Problem.Validation($"A client may register at most {MaxRedirectUris} redirect URIs.");
        foreach (var uri in redirectUris)
        {
            var checkedUri = RedirectUriPolicy.Validate(uri, options.AllowLoopbackHttp);
            if (!checkedUri.IsSuccess) return Problem.Validation($"redirectUris: {checkedUri.Error}.");
        }
        if (postLogoutRedirectUris.Length > MaxRedirectUris)
            return Problem.Validation($"A client may register at most {MaxRedirectUris} post-logout redirect URIs.");
        foreach (var uri in postLogoutRedirectUris)
        {
            // The same rules as redirect URIs: an open redirector after logout is still an open redirector.
            var checkedUri = RedirectUriPolicy.Validate(uri, options.AllowLoopbackHttp);
            if (!checkedUri.IsSuccess) return Problem.Validation($"postLogoutRedirectUris: {checkedUri.Error}.");
        }

        var secret = OAuthClient.NewSecret();
        var client = new OAuthClient(ClientId.New(), name.Trim(), redirectUris.Distinct(StringComparer.Ordinal).ToArray(),
            OAuthClient.HashSecret(secret), clock.GetUtcNow())
        {
            PostLogoutRedirectUris = postLogoutRedirectUris.Distinct(StringComparer.Ordinal).ToArray(),
        };
        await clients.CreateAsync(client, cancellationToken);
        return new CreatedClient(client.Id.Value, secret, client.Name, client.RedirectUris.ToArray(), client.PostLogoutRedirectUris.ToArray(),
            client.CreatedAt);
    }

    /// <summary>The client's view (never its secret); an unknown or malformed id is a 404 problem.</summary>
    public async Task<Result<ClientView, Problem>> FindAsync(string rawClientId, CancellationToken cancellationToken) =>
        ClientId.TryParse(rawClientId, out var id) && await clients.FindAsync(id, cancellationToken) is { } client
            ? client.ToView()
            : Problem.NotFound("client", rawClientId);

    /// <summary>Deletes the client; an unknown or malformed id is a 404 problem.</summary>
    public async Task<Result<ClientId, Problem>> DeleteAsync(string rawClientId, CancellationToken cancellationToken) =>
        ClientId.TryParse(rawClientId, out var id) && await clients.DeleteAsync(id, cancellationToken) != SaveOutcome.NotFound
            ? id
            : Problem.NotFound("client", rawClientId);
}
