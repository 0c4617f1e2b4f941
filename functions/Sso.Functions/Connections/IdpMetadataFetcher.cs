using System.Net.Http.Headers;
using Sso.Functions.Hosting;
using Sso.Protocols.OAuth;

namespace Sso.Functions.Connections;

/// <summary>
/// Fetches an IdP's SAML metadata from its URL: https only (http on loopback in Development),
/// at most 5 s, at most 1 MiB, no redirects followed, sockets only to addresses
/// <see cref="OutboundConnectGuard"/> allows. Every network failure is the same sentence to the
/// caller (the URL is the setup-link holder's choice; the precise reason is logged). The caller
/// keeps the last good copy when a fetch fails.
/// </summary>
public sealed class IdpMetadataFetcher(IHttpClientFactory httpClients, SsoOptions options, OutboundConnectGuard guard)
{
    public const string HttpClientName = "idp-metadata";
    public const int MaxBytes = 1024 * 1024;
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>Checks the URL's shape: absolute, https (or loopback http in Development), no user info.</summary>
    public Result<Uri, string> CheckUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2048) return "idpMetadataUrl must be an absolute URL of at most 2048 characters";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return $"idpMetadataUrl '{url}' is not an absolute URL";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "idpMetadataUrl must not carry user information";
        if (uri.Scheme == Uri.UriSchemeHttps) return uri;
        if (uri.Scheme == Uri.UriSchemeHttp && RedirectUriPolicy.IsLoopback(uri) && options.AllowLoopbackHttp) return uri;
        return $"idpMetadataUrl '{url}' must use https";
    }

    public async Task<Result<byte[], string>> FetchAsync(Uri url, CancellationToken cancellationToken)
    {
        var client = httpClients.CreateClient(HttpClientName);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/samlmetadata+xml"));
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/xml", 0.9));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if ((int)response.StatusCode is >= 300 and < 400)
                return $"the metadata URL answered HTTP {(int)response.StatusCode}; redirects are not followed, give the final URL";
            if (!response.IsSuccessStatusCode)
                return $"the metadata URL answered HTTP {(int)response.StatusCode}";
            if (response.Content.Headers.ContentLength > MaxBytes)
                return $"the metadata is larger than {MaxBytes} bytes";
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await body.ReadAsync(chunk, timeout.Token)) > 0)
            {
                if (buffer.Length + read > MaxBytes) return $"the metadata is larger than {MaxBytes} bytes";
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
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

    private string Unreachable(Uri url, Exception e)
    {
        guard.LogFailure(url, OutboundConnectGuard.ReasonOf(e));
        return "the metadata URL " + OutboundConnectGuard.Unreachable;
    }
}
