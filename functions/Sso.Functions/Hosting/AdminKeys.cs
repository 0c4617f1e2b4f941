using System.Security.Cryptography;
using System.Text;

namespace Sso.Functions.Hosting;

/// <summary>
/// The management API's bearer keys. Only SHA-256 hashes are kept in memory; a presented key is
/// hashed and compared in constant time against each. A key's id (a hash prefix) names it in
/// logs and the audit trail without revealing it.
/// </summary>
public sealed class AdminKeys
{
    private readonly List<(string Id, byte[] Hash)> _keys = [];

    public AdminKeys(IEnumerable<string> plaintextKeys, IEnumerable<string> sha256HexHashes)
    {
        foreach (var key in plaintextKeys.Where(k => k.Length > 0))
            Add(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        foreach (var hex in sha256HexHashes.Where(h => h.Length > 0))
            Add(Convert.FromHexString(hex));
    }

    public int Count => _keys.Count;

    private void Add(byte[] hash) => _keys.Add(("key_" + Convert.ToHexStringLower(hash)[..12], hash));

    public static AdminKeys From(IConfiguration configuration) => new(
        Split(configuration["Admin:ApiKeys"]).Concat(Split(configuration["SSO_ADMIN_KEY"])),
        Split(configuration["Admin:ApiKeyHashes"]));

    private static IEnumerable<string> Split(string? value) =>
        (value ?? "").Split([',', ';', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The id of the key the request presents, or null when it presents no known key.</summary>
    public string? Authenticate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        return AuthenticateKey(header["Bearer ".Length..]);
    }

    /// <summary>The id of the key <paramref name="presented"/> is (pasted into the console's sign-in form), or null.</summary>
    public string? AuthenticateKey(string presented)
    {
        presented = presented.Trim();
        if (presented.Length is 0 or > 512) return null;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        string? match = null;
        foreach (var (id, known) in _keys)
            if (CryptographicOperations.FixedTimeEquals(hash, known)) match = id;
        return match;
    }
}

public static class AdminApi
{
    public const string KeyIdItem = "AdminKeyId";

    /// <summary>Wraps a management handler so it runs only for a request with a valid admin key.</summary>
    public static Func<HttpContext, Task<IResult>> Require(Func<HttpContext, Task<IResult>> handler) => async context =>
    {
        var keys = context.RequestServices.GetRequiredService<AdminKeys>();
        if (keys.Authenticate(context.Request) is not { } keyId)
            return ProblemResults.Write(Problem.Unauthorized());
        context.Items[KeyIdItem] = keyId;
        return await handler(context);
    };
}
