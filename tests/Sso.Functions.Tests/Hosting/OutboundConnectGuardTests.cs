using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Sso.Functions.Hosting;
using Sso.Protocols.Net;
using Sso.Testing;

namespace Sso.Functions.Tests.Hosting;

/// <summary>A TCP listener on loopback that only counts the connections it accepts.</summary>
public sealed class CountingTcpListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentBag<TcpClient> _accepted = [];

    public CountingTcpListener()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            try
            {
                while (true) _accepted.Add(await _listener.AcceptTcpClientAsync());
            }
            catch (SocketException) { }
            catch (ObjectDisposedException) { }
        });
    }

    public int Port { get; }
    public int Accepted => _accepted.Count;

    public void Dispose()
    {
        _listener.Stop();
        foreach (var client in _accepted) client.Dispose();
    }
}

/// <summary>A resolver that answers from a table and records every name it was asked for.</summary>
public sealed class FakeResolver(Dictionary<string, IPAddress[]> answers)
{
    public ConcurrentQueue<string> Asked { get; } = new();

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        Asked.Enqueue(host);
        return answers.TryGetValue(host, out var addresses)
            ? Task.FromResult(addresses)
            : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
    }
}

public class OutboundConnectGuardTests
{
    private static (HttpClient Client, FakeResolver Resolver) Client(bool allowLoopback, Dictionary<string, IPAddress[]> answers)
    {
        var resolver = new FakeResolver(answers);
        var guard = new OutboundConnectGuard(allowLoopback, resolver.ResolveAsync, NullLogger<OutboundConnectGuard>.Instance);
        return (new HttpClient(guard.CreateHandler(TimeSpan.FromSeconds(5))) { Timeout = TimeSpan.FromSeconds(5) }, resolver);
    }

    private static async Task<OutboundAddressKind> RefusedAsync(HttpClient client, string url)
    {
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url));
        return Assert.IsType<OutboundAddressRefusedException>(e.InnerException).Kind;
    }

    [Fact]
    public async Task Refuses_at_connect_time_a_name_that_resolves_to_loopback_and_opens_no_socket()
    {
        using var listener = new CountingTcpListener();
        var (client, resolver) = Client(allowLoopback: false, new()
        {
            ["idp.customer.test"] = [IPAddress.Loopback],
            ["mapped.customer.test"] = [IPAddress.Parse("::ffff:127.0.0.1")],
            ["intranet.customer.test"] = [IPAddress.Parse("10.0.0.5")],
        });

        Assert.Equal(OutboundAddressKind.Loopback, await RefusedAsync(client, $"http://idp.customer.test:{listener.Port}/"));
        Assert.Equal(OutboundAddressKind.Loopback, await RefusedAsync(client, $"http://mapped.customer.test:{listener.Port}/"));
        Assert.Equal(OutboundAddressKind.Private, await RefusedAsync(client, "https://intranet.customer.test/metadata"));
        Assert.Equal(OutboundAddressKind.Loopback, await RefusedAsync(client, $"http://127.0.0.1:{listener.Port}/"));
        Assert.Equal(OutboundAddressKind.Loopback, await RefusedAsync(client, $"http://[::ffff:127.0.0.1]:{listener.Port}/"));

        // The handler itself resolved the names (the check is on what it connects to), and nothing reached the listener.
        Assert.Equal(["idp.customer.test", "mapped.customer.test", "intranet.customer.test"], resolver.Asked);
        Assert.Equal(0, listener.Accepted);
    }

    [Fact]
    public async Task Refuses_the_cloud_metadata_address_without_trying_to_connect()
    {
        var (client, resolver) = Client(allowLoopback: true, []);
        var clock = Stopwatch.StartNew();
        Assert.Equal(OutboundAddressKind.LinkLocal, await RefusedAsync(client, "http://169.254.169.254/metadata/instance"));
        Assert.Equal(OutboundAddressKind.LinkLocal, await RefusedAsync(client, "http://[fe80::1]/"));
        Assert.Equal(OutboundAddressKind.UniqueLocal, await RefusedAsync(client, "http://[fd00:ec2::254]/"));
        // A connect attempt to an unrouted address would sit out the 5 s connect timeout.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Empty(resolver.Asked);
    }

    [Fact]
    public async Task Refuses_a_name_whose_answer_mixes_public_and_private_addresses()
    {
        using var listener = new CountingTcpListener();
        var (client, _) = Client(allowLoopback: false, new()
        {
            ["rebind.customer.test"] = [IPAddress.Parse("34.216.112.9"), IPAddress.Loopback],
        });
        Assert.Equal(OutboundAddressKind.Loopback, await RefusedAsync(client, $"http://rebind.customer.test:{listener.Port}/"));
        Assert.Equal(0, listener.Accepted);
    }

    [Fact]
    public async Task Connects_to_loopback_in_development_and_follows_no_redirect()
    {
        using var target = new RecordingHttpReceiver();
        using var redirecting = new RecordingHttpReceiver();
        redirecting.Responder = _ => new ScriptedResponse(302, new() { ["Location"] = target.BaseUrl + "elsewhere" });
        var (client, resolver) = Client(allowLoopback: true, []);

        var response = await client.GetAsync(redirecting.BaseUrl + "metadata");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Single(redirecting.Requests);
        Assert.Empty(target.Requests);
        Assert.Empty(resolver.Asked); // 127.0.0.1 is a literal: nothing to resolve
    }

    [Fact]
    public void Tells_the_log_the_precise_reason()
    {
        Assert.Equal("AddressNotAllowed:LinkLocal",
            OutboundConnectGuard.ReasonOf(new HttpRequestException(HttpRequestError.ConnectionError, "x", new OutboundAddressRefusedException(OutboundAddressKind.LinkLocal))));
        Assert.Equal("ConnectionError", OutboundConnectGuard.ReasonOf(new HttpRequestException(HttpRequestError.ConnectionError, "x")));
        Assert.Equal("Timeout", OutboundConnectGuard.ReasonOf(new TaskCanceledException()));
    }
}
