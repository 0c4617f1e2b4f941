using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sso.Protocols.Net;

namespace Sso.Functions.Hosting;

/// <summary>Resolves a host name to the addresses to try; <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/> outside tests.</summary>
public delegate Task<IPAddress[]> HostResolver(string host, CancellationToken cancellationToken);

/// <summary>Thrown by the connect callback when the host resolves to an address the rule refuses.</summary>
public sealed class OutboundAddressRefusedException(OutboundAddressKind kind)
    : IOException($"The address is not allowed ({kind}).")
{
    public OutboundAddressKind Kind { get; } = kind;
}

/// <summary>
/// The socket layer of every call to a customer's IdP (issue 18.9, SSRF): the handler resolves the
/// host itself, checks every address with <see cref="OutboundAddressPolicy"/> and connects a socket
/// only to an address it checked, so a name that resolves to a public address for a pre-check and
/// to 169.254.169.254 for the connect (DNS rebinding) gets nowhere. Loopback is allowed in
/// Development only (<see cref="SsoOptions.AllowLoopbackHttp"/>), for the tests' local IdPs.
/// </summary>
public sealed partial class OutboundConnectGuard(bool allowLoopback, HostResolver resolve, ILogger<OutboundConnectGuard> logger)
{
    /// <summary>What an admin or a setup-link holder is told about any network failure: one sentence, so it cannot map the network.</summary>
    public const string Unreachable = "could not be reached from this service (it must be a public https address that answers within 5 s)";

    public bool AllowLoopback => allowLoopback;

    /// <summary>Registers the production guard unless a test registered its own first.</summary>
    public static void Register(IServiceCollection services) =>
        services.TryAddSingleton(provider => new OutboundConnectGuard(
            provider.GetRequiredService<SsoOptions>().AllowLoopbackHttp,
            Dns.GetHostAddressesAsync,
            provider.GetRequiredService<ILogger<OutboundConnectGuard>>()));

    /// <summary>
    /// A handler that follows no redirect (a 30x to http://169.254.169.254 must not be followed),
    /// uses no proxy (the check must see the IdP's address, not a proxy's) and connects through
    /// <see cref="ConnectAsync"/>.
    /// </summary>
    public SocketsHttpHandler CreateHandler(TimeSpan connectTimeout) => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        ConnectTimeout = connectTimeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = DecompressionMethods.None,
        MaxResponseDrainSize = 64 * 1024,
        ConnectCallback = ConnectAsync,
    };

    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses = IPAddress.TryParse(host.AsSpan().Trim("[]"), out var literal)
            ? [literal]
            : await resolve(host, cancellationToken);
        // Every address must pass: the order of a mixed answer is the attacker's to choose, and a
        // real IdP never publishes a private address beside its public one.
        foreach (var address in addresses)
        {
            var kind = OutboundAddressPolicy.Classify(address.GetAddressBytes());
            if (OutboundAddressPolicy.IsAllowed(kind, allowLoopback)) continue;
            LogRefused(logger, host, kind);
            throw new OutboundAddressRefusedException(kind);
        }
        if (addresses.Length == 0) throw new SocketException((int)SocketError.HostNotFound);

        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }

    /// <summary>Logs why a call to an IdP failed, by kind: the host, never the path or query.</summary>
    public void LogFailure(Uri url, string reason) => LogCallFailed(logger, url.IdnHost, url.Port, reason);

    /// <summary>The reason a failed send gets in the log: the refused address kind, the HttpRequestError, or the exception type.</summary>
    public static string ReasonOf(Exception e) => e switch
    {
        HttpRequestException { InnerException: OutboundAddressRefusedException refused } => "AddressNotAllowed:" + refused.Kind,
        OutboundAddressRefusedException refused => "AddressNotAllowed:" + refused.Kind,
        HttpRequestException http => http.HttpRequestError.ToString(),
        OperationCanceledException => "Timeout",
        _ => e.GetType().Name,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused to connect to {Host}: it resolves to a {AddressKind} address")]
    private static partial void LogRefused(ILogger logger, string host, OutboundAddressKind addressKind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The call to the IdP at {Host}:{Port} failed: {FailureKind}")]
    private static partial void LogCallFailed(ILogger logger, string host, int port, string failureKind);
}
