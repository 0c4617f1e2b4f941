namespace Sso.Protocols.Net;

/// <summary>
/// What an IP address is, for deciding whether this service may connect to it on behalf of
/// whoever typed a metadata URL or an issuer (SSRF). The names are stable: they appear in logs.
/// </summary>
public enum OutboundAddressKind
{
    /// <summary>A globally routable unicast address: the only kind an IdP may live at.</summary>
    Public,
    /// <summary>0.0.0.0/8, ::/128.</summary>
    Unspecified,
    /// <summary>127.0.0.0/8, ::1/128. The App Service managed-identity endpoint listens here.</summary>
    Loopback,
    /// <summary>10/8, 172.16/12, 192.168/16 (RFC 1918).</summary>
    Private,
    /// <summary>100.64/10 (RFC 6598); also Alibaba's metadata service at 100.100.100.200.</summary>
    SharedAddressSpace,
    /// <summary>169.254/16, fe80::/10; the cloud metadata services (Azure IMDS at 169.254.169.254).</summary>
    LinkLocal,
    /// <summary>fc00::/7 (RFC 4193), the deprecated site-local fec0::/10, local-use NAT64 64:ff9b:1::/48.</summary>
    UniqueLocal,
    /// <summary>224/4, ff00::/8.</summary>
    Multicast,
    /// <summary>255.255.255.255.</summary>
    Broadcast,
    /// <summary>192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.</summary>
    Documentation,
    /// <summary>198.18/15, 2001:2::/48 (inside 2001::/23).</summary>
    Benchmarking,
    /// <summary>
    /// 168.63.129.16: Azure's WireServer and platform DNS, reachable from inside every Azure host
    /// although the address is public.
    /// </summary>
    CloudPlatform,
    /// <summary>
    /// Everything else that is not global unicast: 192.0.0/24, 192.88.99/24, 240/4, IPv6 outside
    /// 2000::/3, 2001::/23, 6to4 2002::/16, SRv6 5f00::/16, 100::/64, IPv4-compatible ::/96.
    /// </summary>
    Reserved,
}

/// <summary>
/// The outbound address rule (issue 18.9): in Production the service connects only to
/// <see cref="OutboundAddressKind.Public"/> addresses; in Development loopback is allowed too, so
/// local test IdPs work. IPv6 forms that carry an IPv4 address (mapped ::ffff:0:0/96, NAT64
/// 64:ff9b::/96, IPv4-compatible) are judged by the IPv4 address inside, since that is where the
/// packets end up. Bytes in (4 or 16, network order), verdict out: the caller resolves the name and
/// checks every address it is about to connect to, so DNS rebinding cannot slip past the check.
/// </summary>
public static class OutboundAddressPolicy
{
    public static bool IsAllowed(ReadOnlySpan<byte> address, bool allowLoopback) =>
        IsAllowed(Classify(address), allowLoopback);

    public static bool IsAllowed(OutboundAddressKind kind, bool allowLoopback) =>
        kind == OutboundAddressKind.Public || (allowLoopback && kind == OutboundAddressKind.Loopback);

    public static OutboundAddressKind Classify(ReadOnlySpan<byte> address) => address.Length switch
    {
        4 => ClassifyV4(address),
        16 => ClassifyV6(address),
        _ => OutboundAddressKind.Reserved,
    };

    private static OutboundAddressKind ClassifyV4(ReadOnlySpan<byte> a)
    {
        // IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates).
        return a[0] switch
        {
            0 => OutboundAddressKind.Unspecified,
            10 => OutboundAddressKind.Private,
            100 when (a[1] & 0xC0) == 64 => OutboundAddressKind.SharedAddressSpace,
            127 => OutboundAddressKind.Loopback,
            168 when a[1] == 63 && a[2] == 129 && a[3] == 16 => OutboundAddressKind.CloudPlatform,
            169 when a[1] == 254 => OutboundAddressKind.LinkLocal,
            172 when (a[1] & 0xF0) == 16 => OutboundAddressKind.Private,
            192 when a[1] == 0 && a[2] == 0 => OutboundAddressKind.Reserved,        // IETF protocol assignments
            192 when a[1] == 0 && a[2] == 2 => OutboundAddressKind.Documentation,
            192 when a[1] == 88 && a[2] == 99 => OutboundAddressKind.Reserved,      // 6to4 relay anycast (RFC 7526)
            192 when a[1] == 168 => OutboundAddressKind.Private,
            198 when (a[1] & 0xFE) == 18 => OutboundAddressKind.Benchmarking,
            198 when a[1] == 51 && a[2] == 100 => OutboundAddressKind.Documentation,
            203 when a[1] == 0 && a[2] == 113 => OutboundAddressKind.Documentation,
            255 when a[1] == 255 && a[2] == 255 && a[3] == 255 => OutboundAddressKind.Broadcast,
            >= 224 and <= 239 => OutboundAddressKind.Multicast,
            >= 240 => OutboundAddressKind.Reserved,
            _ => OutboundAddressKind.Public,
        };
    }

    private static OutboundAddressKind ClassifyV6(ReadOnlySpan<byte> a)
    {
        // IANA IPv6 Special-Purpose Address Registry; only 2000::/3 is allocated global unicast.
        if (a[..15].IndexOfAnyExcept((byte)0) < 0)
            return a[15] switch { 0 => OutboundAddressKind.Unspecified, 1 => OutboundAddressKind.Loopback, _ => OutboundAddressKind.Reserved };
        if (a[..10].IndexOfAnyExcept((byte)0) < 0 && a[10] == 0xFF && a[11] == 0xFF)
            return ClassifyV4(a[12..]);                                               // ::ffff:a.b.c.d (mapped)
        if (a[..12].IndexOfAnyExcept((byte)0) < 0)
            return Embedded(a[12..]);                                                 // ::a.b.c.d (compatible, deprecated)
        if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xFF && a[3] == 0x9B)
        {
            if (a[4..12].IndexOfAnyExcept((byte)0) < 0) return ClassifyV4(a[12..]);   // 64:ff9b::/96 NAT64 (RFC 6052)
            if (a[4] == 0 && a[5] == 1) return OutboundAddressKind.UniqueLocal;      // 64:ff9b:1::/48 (RFC 8215)
        }
        if (a[0] == 0xFF) return OutboundAddressKind.Multicast;
        if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return OutboundAddressKind.LinkLocal;
        if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) return OutboundAddressKind.UniqueLocal; // site-local, deprecated
        if ((a[0] & 0xFE) == 0xFC) return OutboundAddressKind.UniqueLocal;
        if ((a[0] & 0xE0) != 0x20) return OutboundAddressKind.Reserved;              // outside 2000::/3: 100::/64, 5f00::/16 SRv6...
        if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8) return OutboundAddressKind.Documentation;
        if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x02 && a[4] == 0 && a[5] == 0)
            return OutboundAddressKind.Benchmarking;
        if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) return OutboundAddressKind.Reserved; // 2001::/23, Teredo included
        if (a[0] == 0x20 && a[1] == 0x02) return OutboundAddressKind.Reserved;       // 6to4 (RFC 7526 deprecates it)
        if (a[0] == 0x3F && a[1] == 0xFF && (a[2] & 0xF0) == 0) return OutboundAddressKind.Documentation; // 3fff::/20 (RFC 9637)
        return OutboundAddressKind.Public;
    }

    // An IPv4-compatible address is never a real IdP's; name the IPv4 kind when it is not public.
    private static OutboundAddressKind Embedded(ReadOnlySpan<byte> v4) =>
        ClassifyV4(v4) is var kind && kind != OutboundAddressKind.Public ? kind : OutboundAddressKind.Reserved;
}
