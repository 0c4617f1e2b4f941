using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Hosting;

namespace Sso.Functions.GoogleDirectory;

/// <summary>What a call to Google came to.</summary>
public enum GoogleOutcome { Ok, Retry, InvalidGrant, Failed }

/// <summary>What a call to Google answered; <paramref name="RetryAfter"/>: how long Google asked to wait before a retry.</summary>
public sealed record GoogleAnswer(GoogleOutcome Outcome, JsonObject? Body, string Detail, TimeSpan? RetryAfter = null)
{
    public static GoogleAnswer Ok(JsonObject body) => new(GoogleOutcome.Ok, body, "ok");
}

/// <summary>
/// Every call to Google: the token endpoint (code and refresh-token grants) and the Directory API's
/// list pages. Sockets open only where <see cref="OutboundConnectGuard"/> allows; no redirect is
/// followed; 429, 5xx and network failures come back as <see cref="GoogleOutcome.Retry"/> for the
/// caller's backoff, with Google's <c>Retry-After</c> when it sent one. Nothing secret is logged or put in a detail.
/// </summary>
public sealed class GoogleApi(IHttpClientFactory factory, GoogleOptions options, TimeProvider clock)
{
    public const string ClientName = "google";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private const int MaxResponseBytes = 32 * 1024 * 1024;

    public const string UserScope = "https://www.googleapis.com/auth/admin.directory.user.readonly";
    public const string GroupScope = "https://www.googleapis.com/auth/admin.directory.group.readonly";
    public const string MemberScope = "https://www.googleapis.com/auth/admin.directory.group.member.readonly";

    public static void Register(IServiceCollection services)
    {
        services.AddHttpClient(ClientName, client =>
            {
                client.Timeout = Timeout;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("Serverless.Sso/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(provider => provider.GetRequiredService<OutboundConnectGuard>().CreateHandler(TimeSpan.FromSeconds(5)));
        OutboundConnectGuard.Register(services);
    }

    public Task<GoogleAnswer> RedeemCodeAsync(string code, string verifier, string redirectUri, CancellationToken cancellationToken) =>
        TokenAsync([new("grant_type", "authorization_code"), new("code", code), new("code_verifier", verifier), new("redirect_uri", redirectUri)],
            cancellationToken);

    public Task<GoogleAnswer> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        TokenAsync([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)], cancellationToken);

    private async Task<GoogleAnswer> TokenAsync(List<KeyValuePair<string, string>> form, CancellationToken cancellationToken)
    {
        form.Add(new("client_id", options.ClientId ?? ""));
        form.Add(new("client_secret", options.ClientSecret ?? ""));
        var request = new HttpRequestMessage(HttpMethod.Post, options.TokenUrl) { Content = new FormUrlEncodedContent(form) };
        var answer = await SendAsync(request, cancellationToken);
        // RFC 6749 §5.2: a revoked or expired grant is invalid_grant; the admin must authorize again.
        if (answer.Outcome == GoogleOutcome.Failed && answer.Body?["error"] is JsonValue error && error.GetValueKind() == JsonValueKind.String
            && error.GetValue<string>() == "invalid_grant")
            return answer with { Outcome = GoogleOutcome.InvalidGrant, Detail = "Google refused the grant (invalid_grant)." };
        return answer;
    }

    /// <summary>One page of a Directory API list: <paramref name="path"/> with its query, relative to the API's base.</summary>
    public Task<GoogleAnswer> ListAsync(string pathAndQuery, string accessToken, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(options.DirectoryApiBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + pathAndQuery));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return SendAsync(request, cancellationToken);
    }

    private async Task<GoogleAnswer> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Accept.ParseAdd("application/json");
        var what = $"{request.Method} {request.RequestUri!.GetLeftPart(UriPartial.Path)}";
        try
        {
            using var response = await factory.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var bytes = await ReadLimitedAsync(response.Content, cancellationToken);
            JsonObject? body = null;
            try
            {
                body = bytes is null ? null : JsonNode.Parse(bytes) as JsonObject;
            }
            catch (JsonException)
            {
            }
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.TooManyRequests || status >= 500)
                return new GoogleAnswer(GoogleOutcome.Retry, body, $"{what} answered {status}.", RetryAfter(response.Headers.RetryAfter));
            if (status != 200 || body is null)
                return new GoogleAnswer(GoogleOutcome.Failed, body, bytes is null
                    ? $"{what} sent more than {MaxResponseBytes} bytes."
                    : $"{what} answered {status}{(body?["error"] is JsonValue e && e.GetValueKind() == JsonValueKind.String ? " (" + e.GetValue<string>() + ")" : "")}.");
            return GoogleAnswer.Ok(body);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new GoogleAnswer(GoogleOutcome.Retry, null, $"{what} could not be reached.");
        }
    }

    /// <summary>RFC 9110 §10.2.3: seconds, or an HTTP date read against the service's clock; null when absent or already past.</summary>
    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header?.Delta is { } seconds ? seconds
        : header?.Date is { } date && date - clock.GetUtcNow() is var left && left > TimeSpan.Zero ? left
        : null;

    private static async Task<byte[]?> ReadLimitedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxResponseBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
