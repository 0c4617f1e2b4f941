using System.Net;
using Sso.Protocols.Net;

namespace Sso.Protocols.Tests.Net;

public class OutboundAddressPolicyTests
{
    public static TheoryData<string, string, OutboundAddressKind> Addresses => new()
    {
        // IPv4: what an IdP really resolves to.
        { "Okta (public v4)", "34.216.112.9", OutboundAddressKind.Public },
        { "just below 10/8", "9.255.255.255", OutboundAddressKind.Public },
        { "just above 10/8", "11.0.0.0", OutboundAddressKind.Public },
        { "just below CGNAT", "100.63.255.255", OutboundAddressKind.Public },
        { "just above CGNAT", "100.128.0.0", OutboundAddressKind.Public },
        { "just below 172.16/12", "172.15.255.255", OutboundAddressKind.Public },
        { "just above 172.16/12", "172.32.0.0", OutboundAddressKind.Public },
        { "168.63.129.15 (next to WireServer)", "168.63.129.15", OutboundAddressKind.Public },
        { "223.255.255.255", "223.255.255.255", OutboundAddressKind.Public },
        // IPv4: refused.
        { "0.0.0.0", "0.0.0.0", OutboundAddressKind.Unspecified },
        { "0.1.2.3 (this network)", "0.1.2.3", OutboundAddressKind.Unspecified },
        { "10.0.0.1", "10.0.0.1", OutboundAddressKind.Private },
        { "10.255.255.255", "10.255.255.255", OutboundAddressKind.Private },
        { "CGNAT start", "100.64.0.0", OutboundAddressKind.SharedAddressSpace },
        { "Alibaba metadata", "100.100.100.200", OutboundAddressKind.SharedAddressSpace },
        { "CGNAT end", "100.127.255.255", OutboundAddressKind.SharedAddressSpace },
        { "127.0.0.1", "127.0.0.1", OutboundAddressKind.Loopback },
        { "127.1.2.3", "127.1.2.3", OutboundAddressKind.Loopback },
        { "Azure WireServer", "168.63.129.16", OutboundAddressKind.CloudPlatform },
        { "Azure IMDS", "169.254.169.254", OutboundAddressKind.LinkLocal },
        { "169.254.0.1", "169.254.0.1", OutboundAddressKind.LinkLocal },
        { "172.16.0.1", "172.16.0.1", OutboundAddressKind.Private },
        { "172.31.255.255", "172.31.255.255", OutboundAddressKind.Private },
        { "192.0.0.8 (IETF assignments)", "192.0.0.8", OutboundAddressKind.Reserved },
        { "TEST-NET-1", "192.0.2.10", OutboundAddressKind.Documentation },
        { "6to4 relay", "192.88.99.1", OutboundAddressKind.Reserved },
        { "192.168.1.1", "192.168.1.1", OutboundAddressKind.Private },
        { "benchmarking", "198.19.0.1", OutboundAddressKind.Benchmarking },
        { "TEST-NET-2", "198.51.100.1", OutboundAddressKind.Documentation },
        { "TEST-NET-3", "203.0.113.1", OutboundAddressKind.Documentation },
        { "multicast", "224.0.0.1", OutboundAddressKind.Multicast },
        { "multicast end", "239.255.255.255", OutboundAddressKind.Multicast },
        { "class E", "240.0.0.1", OutboundAddressKind.Reserved },
        { "broadcast", "255.255.255.255", OutboundAddressKind.Broadcast },

        // IPv6: public.
        { "Google (public v6)", "2607:f8b0:4004:800::200e", OutboundAddressKind.Public },
        { "Azure (public v6)", "2603:1030:20e:3::23c", OutboundAddressKind.Public },
        { "2001:200:: (just above 2001::/23)", "2001:200::1", OutboundAddressKind.Public },
        { "NAT64 of a public v4", "64:ff9b::8.8.8.8", OutboundAddressKind.Public },
        { "mapped public v4", "::ffff:34.216.112.9", OutboundAddressKind.Public },
        // IPv6: refused.
        { "::", "::", OutboundAddressKind.Unspecified },
        { "::1", "::1", OutboundAddressKind.Loopback },
        { "link-local", "fe80::1", OutboundAddressKind.LinkLocal },
        { "link-local with a scope", "fe80::1%2", OutboundAddressKind.LinkLocal },
        { "febf:: (end of fe80::/10)", "febf::1", OutboundAddressKind.LinkLocal },
        { "site-local (deprecated)", "fec0::1", OutboundAddressKind.UniqueLocal },
        { "unique-local fc00::", "fc00::1", OutboundAddressKind.UniqueLocal },
        { "unique-local fd00:: (AWS IMDS v6)", "fd00:ec2::254", OutboundAddressKind.UniqueLocal },
        { "multicast v6", "ff02::1", OutboundAddressKind.Multicast },
        { "documentation 2001:db8::", "2001:db8::1", OutboundAddressKind.Documentation },
        { "documentation 3fff::", "3fff:fff::1", OutboundAddressKind.Documentation },
        { "benchmarking 2001:2::", "2001:2::1", OutboundAddressKind.Benchmarking },
        { "Teredo", "2001:0:4136:e378::1", OutboundAddressKind.Reserved },
        { "6to4", "2002:c000:0204::1", OutboundAddressKind.Reserved },
        { "discard-only", "100::1", OutboundAddressKind.Reserved },
        { "SRv6 SID", "5f00::1", OutboundAddressKind.Reserved },
        { "unallocated 4000::", "4000::1", OutboundAddressKind.Reserved },
        { "local-use NAT64", "64:ff9b:1::a", OutboundAddressKind.UniqueLocal },
        // IPv6 carrying a refused IPv4 address.
        { "mapped loopback", "::ffff:127.0.0.1", OutboundAddressKind.Loopback },
        { "mapped IMDS", "::ffff:169.254.169.254", OutboundAddressKind.LinkLocal },
        { "mapped RFC 1918", "::ffff:10.1.2.3", OutboundAddressKind.Private },
        { "mapped CGNAT", "::ffff:100.64.0.1", OutboundAddressKind.SharedAddressSpace },
        { "mapped unspecified", "::ffff:0.0.0.0", OutboundAddressKind.Unspecified },
        { "mapped WireServer", "::ffff:168.63.129.16", OutboundAddressKind.CloudPlatform },
        { "compatible loopback", "::127.0.0.1", OutboundAddressKind.Loopback },
        { "compatible IMDS", "::169.254.169.254", OutboundAddressKind.LinkLocal },
        { "compatible public (deprecated form)", "::8.8.8.8", OutboundAddressKind.Reserved },
        { "NAT64 of IMDS", "64:ff9b::169.254.169.254", OutboundAddressKind.LinkLocal },
        { "NAT64 of RFC 1918", "64:ff9b::192.168.0.1", OutboundAddressKind.Private },
    };

    [Theory]
    [MemberData(nameof(Addresses))]
    public void Classifies_the_address(string name, string address, OutboundAddressKind expected)
    {
        var bytes = IPAddress.Parse(address).GetAddressBytes();
        Assert.True(expected == OutboundAddressPolicy.Classify(bytes), $"{name}: {OutboundAddressPolicy.Classify(bytes)}");
        Assert.Equal(expected == OutboundAddressKind.Public, OutboundAddressPolicy.IsAllowed(bytes, allowLoopback: false));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("34.216.112.9", true)]
    [InlineData("169.254.169.254", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("fc00::1", false)]
    public void Allows_loopback_only_when_told_to_and_nothing_else_private(string address, bool allowedInDevelopment)
    {
        var bytes = IPAddress.Parse(address).GetAddressBytes();
        Assert.Equal(allowedInDevelopment, OutboundAddressPolicy.IsAllowed(bytes, allowLoopback: true));
    }

    [Fact]
    public void Refuses_loopback_in_production()
    {
        Assert.False(OutboundAddressPolicy.IsAllowed(IPAddress.Loopback.GetAddressBytes(), allowLoopback: false));
        Assert.False(OutboundAddressPolicy.IsAllowed(IPAddress.IPv6Loopback.GetAddressBytes(), allowLoopback: false));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(15)]
    public void Refuses_bytes_that_are_not_an_address(int length) =>
        Assert.Equal(OutboundAddressKind.Reserved, OutboundAddressPolicy.Classify(new byte[length]));
}
