using System.Security.Cryptography;

namespace Sso.Functions.Storage;

/// <summary>Random, prefixed, URL- and key-safe identifiers (<c>ten_…</c>, <c>dir_…</c>, <c>con_…</c>).</summary>
public static class Ids
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    /// <summary>A prefix and 26 characters of Crockford base32: 130 bits, of which 128 are random.</summary>
    public static string New(string prefix)
    {
        Span<byte> bytes = stackalloc byte[17];
        RandomNumberGenerator.Fill(bytes[..16]);
        bytes[16] = 0;
        Span<char> chars = stackalloc char[26];
        for (var i = 0; i < 26; i++)
        {
            var bit = i * 5;
            var value = ((bytes[bit / 8] << 8) | bytes[bit / 8 + 1]) >> (11 - bit % 8) & 31;
            chars[i] = Alphabet[value];
        }
        return prefix + new string(chars);
    }

    public static bool HasShape(string? value, string prefix) =>
        value is not null && value.Length == prefix.Length + 26 && value.StartsWith(prefix, StringComparison.Ordinal)
        && value.AsSpan(prefix.Length).IndexOfAnyExcept(Alphabet) < 0;
}

public readonly record struct TenantId(string Value)
{
    public const string Prefix = "ten_";

    public static TenantId New() => new(Ids.New(Prefix));

    public static bool TryParse(string? value, out TenantId id)
    {
        id = new TenantId(value ?? "");
        return Ids.HasShape(value, Prefix);
    }

    public override string ToString() => Value;
}

/// <summary>An OAuth client of this service; shared vocabulary (sign-in, audit), so it lives beside <see cref="TenantId"/>.</summary>
public readonly record struct ClientId(string Value)
{
    public const string Prefix = "cli_";

    public static ClientId New() => new(Ids.New(Prefix));

    public static bool TryParse(string? value, out ClientId id)
    {
        id = new ClientId(value ?? "");
        return Ids.HasShape(value, Prefix);
    }

    public override string ToString() => Value;
}
