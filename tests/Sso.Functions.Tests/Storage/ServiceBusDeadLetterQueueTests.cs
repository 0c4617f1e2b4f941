using System.Text.Json.Nodes;
using Azure.Core;
using Sso.Functions.Hosting;
using Sso.Functions.Storage.Queues;
using Sso.Testing;

namespace Sso.Functions.Tests.Storage;

/// <summary>The Service Bus dead-letter reader against a loopback listener that answers like the REST API.</summary>
public sealed class ServiceBusDeadLetterQueueTests : IDisposable
{
    private readonly RecordingHttpReceiver _bus = new();
    private readonly Queue<(string Sequence, string MessageId, string Body)> _deadLetters = new();

    public ServiceBusDeadLetterQueueTests()
    {
        _deadLetters.Enqueue(("11", "evt_a.x", new WorkEnvelope("evt_a.x", "user.revoke", "{}").Write()));
        _deadLetters.Enqueue(("12", "evt_b.x", new WorkEnvelope("evt_b.x", "user.revoke", "{}").Write()));
        _bus.Responder = request =>
        {
            if (request.Method == "POST" && request.PathAndQuery.Contains("/$DeadLetterQueue/messages/head"))
            {
                if (!_deadLetters.TryDequeue(out var next)) return new ScriptedResponse(204);
                return new ScriptedResponse(201, new Dictionary<string, string>
                {
                    ["BrokerProperties"] = $$"""{"DeliveryCount":10,"LockToken":"lock-{{next.Sequence}}","MessageId":"{{next.MessageId}}","SequenceNumber":{{next.Sequence}},"EnqueuedTimeUtc":"Tue, 01 Dec 2026 09:00:00 GMT"}""",
                    ["DeadLetterReason"] = "\"MaxDeliveryCountExceeded\"",
                }, next.Body);
            }
            return new ScriptedResponse(request.Method == "POST" ? 201 : 200);
        };
    }

    public void Dispose() => _bus.Dispose();

    private sealed class FixedToken : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new("sb-token", DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }

    private ServiceBusDeadLetterQueue Create()
    {
        var ns = new Uri(_bus.BaseUrl);
        return new ServiceBusDeadLetterQueue(new HttpClient(), ns, new FixedToken(), new ServiceBusWorkQueue(new HttpClient(), ns, new FixedToken()));
    }

    [Fact]
    public async Task Lists_by_peek_lock_and_unlocks_every_message_again()
    {
        var listed = await Create().ListAsync("deprovision", 10, default);

        Assert.Equal(["11", "12"], listed.Select(d => d.Id));
        Assert.All(listed, d => Assert.Equal("MaxDeliveryCountExceeded", d.Reason));
        Assert.Equal("user.revoke", listed[0].Kind);
        var unlocks = _bus.Requests.Where(r => r.Method == "PUT").Select(r => r.PathAndQuery).ToList();
        Assert.Equal(["/deprovision/$DeadLetterQueue/messages/evt_a.x/lock-11", "/deprovision/$DeadLetterQueue/messages/evt_b.x/lock-12"], unlocks);
        Assert.All(_bus.Requests, r => Assert.Equal("Bearer sb-token", r.Headers["Authorization"]));
    }

    [Fact]
    public async Task Replays_under_a_new_message_id_then_deletes_the_dead_letter()
    {
        Assert.True(await Create().ReplayAsync("deprovision", "12", default));

        var send = Assert.Single(_bus.Requests, r => r.Method == "POST" && r.PathAndQuery == "/deprovision/messages");
        var messageId = JsonNode.Parse(send.Headers["BrokerProperties"])!["MessageId"]!.GetValue<string>();
        Assert.StartsWith("evt_b.x.replay-", messageId);
        Assert.Contains(_bus.Requests, r => r.Method == "DELETE" && r.PathAndQuery == "/deprovision/$DeadLetterQueue/messages/evt_b.x/lock-12");
        Assert.Contains(_bus.Requests, r => r.Method == "PUT" && r.PathAndQuery == "/deprovision/$DeadLetterQueue/messages/evt_a.x/lock-11");
        var deleteIndex = _bus.Requests.ToList().FindIndex(r => r.Method == "DELETE");
        var sendIndex = _bus.Requests.ToList().FindIndex(r => r.PathAndQuery == "/deprovision/messages");
        Assert.True(sendIndex < deleteIndex);
    }

    [Fact]
    public async Task Reports_false_when_the_dead_letter_is_gone()
    {
        Assert.False(await Create().ReplayAsync("deprovision", "99", default));
        Assert.DoesNotContain(_bus.Requests, r => r.Method == "DELETE");
    }
}
