using System.Net.Http.Headers;
using Sso.Protocols.Oidc;

namespace Sso.Functions.Oidc;

/// <summary>An IdP's answer, read in full up to a size limit.</summary>
public sealed record IdpResponse(int Status, string? MediaType, byte[] Body);

/// <summary>
/// Every call this service makes to an OpenID Provider (discovery, JWKS, token, userinfo) goes
/// through here: at most 5 s, a response size limit, no redirects followed (DESIGN.md §3.2), so a
/// slow or hostile IdP yields an error redirect, never a hung browser or a filled memory.
/// </summary>
public sealed class IdpHttpClient(IHttpClientFactory factory)
{
    public const string ClientName = "oidc-idp";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static void Register(IServiceCollection services)
    {
        services.AddHttpClient(ClientName, client =>
            {
                client.Timeout = Timeout;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Serverless.Sso/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                ConnectTimeout = Timeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AutomaticDecompression = System.Net.DecompressionMethods.None,
            });
        services.AddSingleton<IdpHttpClient>();
    }

    public Task<Result<IdpResponse, OidcFailure>> GetAsync(Uri uri, int limit, string? bearerToken, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("application/json");
        if (bearerToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
        return SendAsync(request, limit, cancellationToken);
    }

    public Task<Result<IdpResponse, OidcFailure>> PostFormAsync(
        Uri uri, IEnumerable<KeyValuePair<string, string>> form, AuthenticationHeaderValue? authorization, int limit,
        CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Authorization = authorization;
        return SendAsync(request, limit, cancellationToken);
    }

    private async Task<Result<IdpResponse, OidcFailure>> SendAsync(HttpRequestMessage request, int limit, CancellationToken cancellationToken)
    {
        var host = request.RequestUri!.GetLeftPart(UriPartial.Path);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using (request)
            using (var response = await factory.CreateClient(ClientName)
                       .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token))
            {
                if (response.Content.Headers.ContentLength > limit) return TooLarge(host, limit);
                await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                using var buffer = new MemoryStream();
                var chunk = new byte[16 * 1024];
                int read;
                while ((read = await stream.ReadAsync(chunk, timeout.Token)) > 0)
                {
                    if (buffer.Length + read > limit) return TooLarge(host, limit);
                    buffer.Write(chunk, 0, read);
                }
                return new IdpResponse((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, buffer.ToArray());
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new OidcFailure(OidcFailureKind.IdpTimeout, $"The IdP did not answer {host} within {Timeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e)
        {
            return new OidcFailure(OidcFailureKind.IdpUnreachable, $"The IdP could not be reached at {host} ({e.HttpRequestError}).");
        }
        catch (IOException)
        {
            return new OidcFailure(OidcFailureKind.IdpUnreachable, $"The connection to the IdP at {host} broke off.");
        }
    }

    private static OidcFailure TooLarge(string host, int limit) =>
        new(OidcFailureKind.IdpResponseTooLarge, $"The IdP's answer from {host} is larger than {limit} bytes.");
}
