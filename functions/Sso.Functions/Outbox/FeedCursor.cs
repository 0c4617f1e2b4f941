using System.Buffers.Binary;
using System.Globalization;
using Sso.Protocols;

namespace Sso.Functions.Outbox;

/// <summary>
/// Where a reader of <c>GET /api/v1/events</c> stands: the last sequence number it has seen in each
/// feed partition it reads (the 16 shards for the whole feed, the tenant's partition for
/// <c>?tenantId=</c>). Opaque to callers: <c>cur_</c> + base64url of a version byte, the kind, for
/// a tenant cursor a hash of the tenant id, then each position as 8 bytes big-endian.
/// A cursor of the time-ordered feed before sequences (<c>evt_&lt;ticks&gt;…</c>) still reads as a
/// time position: each partition starts at its first row that entered the feed after that time.
/// </summary>
public sealed record FeedCursor(long[] Positions, long? LegacyTicks)
{
    public const string Prefix = "cur_";
    private const string LegacyPrefix = "evt_";
    private const byte Version = 1;
    private const byte GlobalKind = 0;
    private const byte TenantKind = 1;
    private const int MaxLength = 400;

    public static FeedCursor Start(string? tenantId) => new(new long[tenantId is null ? EventFeedStore.ShardCount : 1], null);

    public string Encode(string? tenantId)
    {
        var header = tenantId is null ? 2 : 6;
        var bytes = new byte[header + 8 * Positions.Length];
        bytes[0] = Version;
        bytes[1] = tenantId is null ? GlobalKind : TenantKind;
        if (tenantId is not null) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), EventFeedStore.StableHash(tenantId));
        for (var i = 0; i < Positions.Length; i++) BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(header + 8 * i), Positions[i]);
        return Prefix + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Reads a cursor this endpoint returned for the same feed (the whole feed, or the same tenant).</summary>
    public static Result<FeedCursor, string> Parse(string raw, string? tenantId)
    {
        const string NotOurs = "'after' must be a cursor returned by this endpoint.";
        if (raw.Length > MaxLength) return NotOurs;
        if (raw.StartsWith(LegacyPrefix, StringComparison.Ordinal))
        {
            // evt_ + 19 digits of ticks + the rest of the old event id.
            if (raw.Length < LegacyPrefix.Length + 19 || !raw.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
                || !long.TryParse(raw.AsSpan(LegacyPrefix.Length, 19), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                || ticks > DateTimeOffset.MaxValue.UtcTicks)
                return NotOurs;
            return new FeedCursor(Start(tenantId).Positions, ticks);
        }
        if (!raw.StartsWith(Prefix, StringComparison.Ordinal)) return NotOurs;
        var text = raw[Prefix.Length..];
        if (text.Length == 0 || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return NotOurs;
        byte[] bytes;
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            bytes = Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
        }
        catch (FormatException)
        {
            return NotOurs;
        }
        if (bytes.Length < 2 || bytes[0] != Version) return NotOurs;
        var expectedKind = tenantId is null ? GlobalKind : TenantKind;
        if (bytes[1] != expectedKind)
            return tenantId is null
                ? "'after' is a cursor of one tenant's feed; pass the same 'tenantId'."
                : "'after' is a cursor of the whole feed; it cannot be used with 'tenantId'.";
        var header = tenantId is null ? 2 : 6;
        var count = tenantId is null ? EventFeedStore.ShardCount : 1;
        if (bytes.Length != header + 8 * count) return NotOurs;
        if (tenantId is not null && BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(2)) != EventFeedStore.StableHash(tenantId))
            return "'after' is a cursor of another tenant's feed.";
        var positions = new long[count];
        for (var i = 0; i < count; i++)
        {
            positions[i] = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(header + 8 * i));
            if (positions[i] < 0) return NotOurs;
        }
        return new FeedCursor(positions, null);
    }
}
