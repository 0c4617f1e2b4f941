using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sso.Protocols.Webhooks;

public enum WebhookSignatureFailure
{
    Malformed,
    OutsideReplayWindow,
    Mismatch,
}

/// <summary>
/// The <c>Sso-Signature</c> header on webhook deliveries: <c>t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c>,
/// where v1 is HMAC-SHA256 over <c>"{t}.{body}"</c> with the endpoint's secret. Signing the
/// timestamp with the body lets a receiver refuse a captured delivery replayed later.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "Sso-Signature";
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    public static string Sign(string secret, DateTimeOffset timestamp, ReadOnlySpan<byte> body)
    {
        var t = timestamp.ToUnixTimeSeconds();
        return $"t={t.ToString(CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(Compute(secret, t, body))}";
    }

    /// <summary>What a receiver runs: the header must parse, be recent and match one v1 value.</summary>
    public static Result<DateTimeOffset, WebhookSignatureFailure> Verify(
        string secret, string? header, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrEmpty(header) || header.Length > 2048) return WebhookSignatureFailure.Malformed;
        long? timestamp = null;
        var candidates = new List<byte[]>();
        foreach (var part in header.Split(','))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) return WebhookSignatureFailure.Malformed;
            var (key, value) = (part[..eq].Trim(), part[(eq + 1)..].Trim());
            if (key == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t)) timestamp = t;
            else if (key == "v1" && value.Length == 64 && value.All(char.IsAsciiHexDigit)) candidates.Add(Convert.FromHexString(value));
        }
        if (timestamp is not { } seconds || candidates.Count == 0) return WebhookSignatureFailure.Malformed;
        var signedAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if ((now - signedAt).Duration() > tolerance) return WebhookSignatureFailure.OutsideReplayWindow;
        var expected = Compute(secret, seconds, body);
        var matched = false;
        foreach (var candidate in candidates)
            matched |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        return matched ? signedAt : WebhookSignatureFailure.Mismatch;
    }

    private static byte[] Compute(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }
}
