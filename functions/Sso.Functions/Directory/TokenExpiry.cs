using System.Globalization;
using System.Text.RegularExpressions;

namespace Sso.Functions.DirectorySync;

/// <summary>A SCIM token's requested expiry: an RFC 3339 instant, in the future, not too far ahead.</summary>
public static partial class TokenExpiry
{
    public static Result<DateTimeOffset, string> Parse(string value, DateTimeOffset now, TimeSpan maxLifetime)
    {
        // RFC 3339 §5.6 date-time: a full date, a time and an explicit offset; ISO 8601 shortcuts
        // ("2030-01-01", no offset = local time) would make the expiry depend on where it is read.
        if (!Rfc3339().IsMatch(value)
            || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var expiresAt))
            return $"'expiresAt' must be an RFC 3339 date-time with an offset, such as \"{now.AddDays(90).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}\".";
        if (expiresAt <= now)
            return "'expiresAt' must be in the future.";
        if (expiresAt - now > maxLifetime)
            return $"'expiresAt' may be at most {(int)maxLifetime.TotalDays} days ahead.";
        return expiresAt.ToUniversalTime();
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();
}
