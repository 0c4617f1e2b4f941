using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Sso.Functions.Tenants;

/// <summary>
/// TXT lookups for domain verification through a real resolver library. The name servers are
/// configurable (<c>Dns:NameServers</c>, "host:port" list) so tests run against a DNS server on loopback.
/// </summary>
public sealed class DnsTxtResolver
{
    private readonly LookupClient _client;

    public DnsTxtResolver(IConfiguration configuration)
    {
        var servers = (configuration["Dns:NameServers"] ?? "")
            .Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(IPEndPoint.Parse)
            .Select(endpoint => new NameServer(endpoint))
            .ToArray();
        var options = servers.Length > 0 ? new LookupClientOptions(servers) : new LookupClientOptions();
        options.UseCache = false;
        options.Timeout = TimeSpan.FromSeconds(3);
        options.Retries = 1;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        _client = new LookupClient(options);
    }

    /// <summary>The TXT strings at <paramref name="name"/> (each record's strings joined), or why there are none.</summary>
    public async Task<TxtLookup> LookupAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.QueryAsync(name, QueryType.TXT, QueryClass.IN, cancellationToken);
            if (response.HasError)
                return new TxtLookup([], response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                    ? $"there is no DNS record at {name}"
                    : $"the DNS lookup of {name} failed ({response.Header.ResponseCode})");
            var values = response.Answers.OfType<TxtRecord>().Select(r => string.Concat(r.Text)).ToArray();
            return new TxtLookup(values, values.Length == 0 ? $"there is no TXT record at {name}" : null);
        }
        catch (DnsResponseException e)
        {
            return new TxtLookup([], $"the DNS lookup of {name} failed ({e.Code})");
        }
    }
}

public sealed record TxtLookup(string[] Values, string? Problem);
