using System.Collections.Concurrent;
using System.Net;

namespace Sso.Testing;

/// <summary>
/// A real HTTP endpoint on a free loopback port that records every request and answers with
/// the next scripted status (then <see cref="DefaultStatus"/>). Stands in for a SaaS webhook
/// receiver or any other peer the service calls.
/// </summary>
public sealed class RecordingHttpReceiver : IDisposable
{
    private HttpListener _listener = new();
    private readonly ConcurrentQueue<int> _scripted = new();
    private readonly List<RecordedRequest> _requests = [];

    public RecordingHttpReceiver()
    {
        Port = AzuriteServer.FreePort();
        BaseUrl = $"http://127.0.0.1:{Port}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string BaseUrl { get; }
    public int DefaultStatus { get; set; } = 200;

    /// <summary>When set, answers every request (status, headers, body) instead of the scripted statuses.</summary>
    public Func<RecordedRequest, ScriptedResponse>? Responder { get; set; }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get { lock (_requests) return _requests.ToList(); }
    }

    /// <summary>Closes the port: connections are refused (a receiver that is down) until <see cref="Start"/>.</summary>
    public void Stop()
    {
        _listener.Stop();
        _listener.Close();
    }

    /// <summary>Opens the port again after <see cref="Stop"/>, with a fresh listener.</summary>
    public void Start()
    {
        _listener = new HttpListener();
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public void RespondWith(params int[] statuses)
    {
        foreach (var status in statuses) _scripted.Enqueue(status);
    }

    private async Task ServeAsync()
    {
        var listener = _listener;
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (HttpListenerException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (InvalidOperationException) { return; }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys
                .ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            var recorded = new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.PathAndQuery, headers, body.ToArray(), 0);
            var response = Responder?.Invoke(recorded)
                ?? new ScriptedResponse(_scripted.TryDequeue(out var next) ? next : DefaultStatus);
            lock (_requests) _requests.Add(recorded with { AnsweredStatus = response.Status });
            context.Response.StatusCode = response.Status;
            foreach (var (name, value) in response.Headers ?? []) context.Response.Headers[name] = value;
            if (response.Body is { } text)
            {
                var bytes = System.Text.Encoding.UTF8.GetBytes(text);
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}

public sealed record RecordedRequest(string Method, string PathAndQuery, Dictionary<string, string> Headers, byte[] Body, int AnsweredStatus)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
}

public sealed record ScriptedResponse(int Status, Dictionary<string, string>? Headers = null, string? Body = null);
