using System.Globalization;
using Sso.Protocols.Scim.Filter;

namespace Sso.Protocols.Scim;

/// <summary>
/// The query of a list request (RFC 7644 §3.4.2): filter, 1-based <c>startIndex</c>, <c>count</c>
/// and the attribute projection. Out-of-range paging values are clamped as §3.4.2.4 says, not refused.
/// </summary>
public sealed record ScimListQuery(ScimFilter? Filter, int StartIndex, int Count, ScimAttributeProjection Projection)
{
    public const int DefaultCount = 100;

    public static Result<ScimListQuery, ScimError> Parse(
        string? filter, string? startIndex, string? count, string? attributes, string? excludedAttributes, int maxCount)
    {
        ScimFilter? parsedFilter = null;
        if (!string.IsNullOrWhiteSpace(filter))
        {
            var parsed = ScimFilterParser.Parse(filter);
            if (!parsed.IsSuccess) return parsed.Error;
            parsedFilter = parsed.Value;
        }
        // §3.4.2.4: a startIndex below 1 is interpreted as 1; a negative count as 0.
        var start = 1;
        if (!string.IsNullOrWhiteSpace(startIndex))
        {
            if (!int.TryParse(startIndex, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out start))
                return ScimError.InvalidValue($"startIndex '{startIndex}' is not an integer.");
            start = Math.Max(1, start);
        }
        var take = Math.Min(DefaultCount, maxCount);
        if (!string.IsNullOrWhiteSpace(count))
        {
            if (!int.TryParse(count, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out take))
                return ScimError.InvalidValue($"count '{count}' is not an integer.");
            take = Math.Clamp(take, 0, maxCount);
        }
        var projection = ScimAttributeProjection.Parse(attributes, excludedAttributes);
        if (!projection.IsSuccess) return projection.Error;
        return new ScimListQuery(parsedFilter, start, take, projection.Value);
    }
}

/// <summary>Weak ETags for <c>meta.version</c> (RFC 7644 §3.14) and the If-Match / If-None-Match checks.</summary>
public static class ScimETag
{
    public static string Format(long version) => Format(version.ToString(CultureInfo.InvariantCulture));

    /// <summary>A weak ETag around an opaque version (no quotes or commas in it).</summary>
    public static string Format(string version) => $"W/\"{version}\"";

    /// <summary>
    /// Whether an If-Match / If-None-Match header names the current version: <c>*</c>, or a list of
    /// ETags compared weakly (RFC 9110 §8.8.3.2), so <c>"3"</c> and <c>W/"3"</c> both match <c>W/"3"</c>.
    /// </summary>
    public static bool Matches(string? header, string currentETag)
    {
        if (string.IsNullOrWhiteSpace(header)) return false;
        var current = Opaque(currentETag);
        foreach (var candidate in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            if (candidate == "*" || Opaque(candidate) == current) return true;
        return false;
    }

    private static string Opaque(string tag)
    {
        var trimmed = tag.Trim();
        if (trimmed.StartsWith("W/", StringComparison.Ordinal)) trimmed = trimmed[2..];
        return trimmed.Trim('"');
    }
}
