using System.Net.Http.Headers;
using Sso.Functions.Hosting;
using Sso.Protocols.Oidc;

namespace Sso.Functions.Oidc;

/// <summary>An IdP's answer, read in full up to a size limit.</summary>
public sealed record IdpResponse(int Status, string? MediaType, byte[] Body);

/// <summary>
/// Every call this service makes to an OpenID Provider (discovery, JWKS, token, userinfo) goes
/// through here: at most 5 s, a response size limit, no redirects followed (DESIGN.md §3.2), so a
/// slow or hostile IdP yields an error redirect, never a hung browser or a filled memory. Sockets
/// open only to addresses <see cref="OutboundConnectGuard"/> allows, and every network failure is
/// reported in one sentence (the precise reason is logged): the issuer and the endpoints in its
/// discovery document are the setup-link holder's to choose, so the answer must not map the network.
/// </summary>
public sealed class IdpHttpClient(IHttpClientFactory factory, OutboundConnectGuard guard, TimeProvider clock)
{
    public const string ClientName = "oidc-idp";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static void Register(IServiceCollection services)
    {
        services.AddHttpClient(ClientName, client =>
            {
                // The deadline on the service clock (SendAsync) bounds every call.
                client.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Serverless.Sso/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(provider => provider.GetRequiredService<OutboundConnectGuard>().CreateHandler(Timeout));
        OutboundConnectGuard.Register(services);
        services.AddSingleton(provider => new IdpHttpClient(
            provider.GetRequiredService<IHttpClientFactory>(), provider.GetRequiredService<OutboundConnectGuard>(),
            provider.GetRequiredService<TimeProvider>()));
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
        var url = request.RequestUri!;
        var host = url.GetLeftPart(UriPartial.Path);
        using var deadline = new CancellationTokenSource(Timeout, clock);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
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
        // A timeout, a refused port, a reset and a refused address read the same to the caller:
        // telling them apart would let a setup-link holder scan the service's network.
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            return Unreachable(url, e);
        }
        catch (HttpRequestException e)
        {
            return Unreachable(url, e);
        }
        catch (IOException e)
        {
            return Unreachable(url, e);
        }
    }

    private OidcFailure Unreachable(Uri url, Exception e)
    {
        guard.LogFailure(url, OutboundConnectGuard.ReasonOf(e));
        return new OidcFailure(OidcFailureKind.IdpUnreachable, "The IdP's URL " + OutboundConnectGuard.Unreachable + ".");
    }

    private static OidcFailure TooLarge(string host, int limit) =>
        new(OidcFailureKind.IdpResponseTooLarge, $"The IdP's answer from {host} is larger than {limit} bytes.");
}
