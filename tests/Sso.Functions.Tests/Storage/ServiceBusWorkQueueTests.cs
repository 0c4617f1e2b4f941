using System.Net;
using System.Text.Json.Nodes;
using Azure.Core;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;

namespace Sso.Functions.Tests.Storage;

/// <summary>The Service Bus REST sender against a loopback listener that records what it receives.</summary>
public sealed class ServiceBusWorkQueueTests : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly Uri _namespace;
    private readonly Task _serving;
    private int _status = 201;

    public ServiceBusWorkQueueTests()
    {
        var port = Sso.Testing.AzuriteServer.FreePort();
        _namespace = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(_namespace.ToString());
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    private sealed record RecordedRequest(string Method, string Path, Dictionary<string, string> Headers, string Body);

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (HttpListenerException) { return; }
            catch (ObjectDisposedException) { return; }
            using var reader = new StreamReader(context.Request.InputStream);
            var headers = context.Request.Headers.AllKeys.ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            var body = await reader.ReadToEndAsync();
            lock (_requests) _requests.Add(new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body));
            context.Response.StatusCode = _status;
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }

    private sealed class FixedToken : TokenCredential
    {
        public List<string[]> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.Add(requestContext.Scopes);
            return new AccessToken("entra-token-123", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }

    [Fact]
    public async Task Sends_one_message_with_its_id_in_broker_properties_and_an_entra_token()
    {
        var credential = new FixedToken();
        var queue = new ServiceBusWorkQueue(new HttpClient(), _namespace, credential);

        await queue.SendAsync("deprovision", [new WorkEnvelope("evt_1-revoke", "user.revoke", """{"userId":"usr_1"}""")], default);

        var request = Assert.Single(_requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/deprovision/messages", request.Path);
        Assert.Equal("Bearer entra-token-123", request.Headers["Authorization"]);
        Assert.Equal(["https://servicebus.azure.net/.default"], Assert.Single(credential.Scopes));
        Assert.Equal("evt_1-revoke", JsonNode.Parse(request.Headers["BrokerProperties"])!["MessageId"]!.GetValue<string>());
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
        var envelope = WorkEnvelope.Read(request.Body);
        Assert.Equal(new WorkEnvelope("evt_1-revoke", "user.revoke", """{"userId":"usr_1"}"""), envelope);
    }

    [Fact]
    public async Task Sends_several_messages_as_one_batch_in_the_service_bus_json_format()
    {
        var queue = new ServiceBusWorkQueue(new HttpClient(), _namespace, new FixedToken());
        var messages = Enumerable.Range(1, 3).Select(i => new WorkEnvelope($"m-{i}", "k", $"{{\"n\":{i}}}")).ToList();

        await queue.SendAsync("events", messages, default);

        var request = Assert.Single(_requests);
        Assert.Equal("/events/messages", request.Path);
        Assert.StartsWith("application/vnd.microsoft.servicebus.json", request.Headers["Content-Type"]);
        var batch = JsonNode.Parse(request.Body)!.AsArray();
        Assert.Equal(3, batch.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal($"m-{i + 1}", batch[i]!["BrokerProperties"]!["MessageId"]!.GetValue<string>());
            Assert.Equal(messages[i], WorkEnvelope.Read(batch[i]!["Body"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Splits_a_large_send_into_batches_of_at_most_100()
    {
        var queue = new ServiceBusWorkQueue(new HttpClient(), _namespace, new FixedToken());
        var messages = Enumerable.Range(1, 250).Select(i => new WorkEnvelope($"m-{i}", "k", "{}")).ToList();

        await queue.SendAsync("events", messages, default);

        Assert.Equal([100, 100, 50], _requests.Select(r => JsonNode.Parse(r.Body)!.AsArray().Count));
    }

    [Fact]
    public async Task Throws_when_service_bus_refuses_so_the_outbox_keeps_the_event()
    {
        _status = 401;
        var queue = new ServiceBusWorkQueue(new HttpClient(), _namespace, new FixedToken());
        await Assert.ThrowsAsync<HttpRequestException>(() =>
            queue.SendAsync("events", [new WorkEnvelope("m", "k", "{}")], default));
    }
}
