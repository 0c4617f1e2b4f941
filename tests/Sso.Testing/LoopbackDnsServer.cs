using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sso.Testing;

/// <summary>
/// A small authoritative DNS responder on a loopback UDP port: answers TXT queries for the
/// names a test sets, NXDOMAIN for the rest. Enough for domain-verification tests, through
/// the same resolver library the service uses in production.
/// </summary>
public sealed class LoopbackDnsServer : IDisposable
{
    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly ConcurrentDictionary<string, string[]> _txt = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();

    public LoopbackDnsServer()
    {
        _ = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.Client.LocalEndPoint!;

    public string NameServerSetting => $"127.0.0.1:{EndPoint.Port}";

    public void SetTxt(string name, params string[] values) => _txt[name.TrimEnd('.')] = values;

    public void Remove(string name) => _txt.TryRemove(name.TrimEnd('.'), out _);

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try { received = await _socket.ReceiveAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            if (Answer(received.Buffer) is { } reply)
                await _socket.SendAsync(reply, received.RemoteEndPoint);
        }
    }

    private byte[]? Answer(byte[] query)
    {
        if (query.Length < 12) return null;
        var position = 12;
        var labels = new List<string>();
        while (position < query.Length && query[position] != 0)
        {
            int length = query[position];
            if (position + 1 + length > query.Length) return null;
            labels.Add(Encoding.ASCII.GetString(query, position + 1, length));
            position += 1 + length;
        }
        position++;
        if (position + 4 > query.Length) return null;
        var type = (query[position] << 8) | query[position + 1];
        var questionEnd = position + 4;
        var name = string.Join('.', labels);

        var values = type == 16 && _txt.TryGetValue(name, out var found) ? found : null;
        var reply = new List<byte>();
        reply.AddRange(query.AsSpan(0, 2).ToArray());                     // id
        reply.Add(0x84);                                                   // QR, AA
        reply.Add((byte)(values is null && !_txt.ContainsKey(name) ? 0x03 : 0x00)); // NXDOMAIN or NOERROR
        reply.AddRange([0, 1]);                                            // one question
        reply.AddRange([0, (byte)(values?.Length ?? 0)]);                  // answers
        reply.AddRange([0, 0, 0, 0]);                                      // authority, additional
        reply.AddRange(query.AsSpan(12, questionEnd - 12).ToArray());
        foreach (var value in values ?? [])
        {
            var text = Encoding.UTF8.GetBytes(value);
            var strings = text.Chunk(255).ToList();
            var rdata = strings.SelectMany(s => new[] { (byte)s.Length }.Concat(s)).ToArray();
            reply.AddRange([0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0, 60]);       // name pointer, TXT, IN, TTL 60
            reply.AddRange([(byte)(rdata.Length >> 8), (byte)rdata.Length]);
            reply.AddRange(rdata);
        }
        return reply.ToArray();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
    }
}
