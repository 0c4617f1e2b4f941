using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Protocols.Oidc;

namespace Sso.Protocols.Tests.Oidc;

/// <summary>Signs id_tokens with keys generated for the test run; no key is committed.</summary>
public sealed class TestOp
{
    public const string Issuer = "https://idp.example.com";
    public const string ClientId = "client-123";
    public const string Nonce = "n-0S6_WzA2Mj";

    private static readonly JsonWebTokenHandler Handler = new();

    public TestOp(string kid = "key-1")
    {
        Rsa = RSA.Create(2048);
        Key = new RsaSecurityKey(Rsa) { KeyId = kid };
        PublicJwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(Rsa.ExportParameters(false)) { KeyId = kid });
        PublicJwk.Use = "sig";
        PublicJwk.Alg = "RS256";
    }

    public RSA Rsa { get; }
    public RsaSecurityKey Key { get; }
    public JsonWebKey PublicJwk { get; }
    public IReadOnlyList<JsonWebKey> Jwks => [PublicJwk];

    public static DateTimeOffset Now { get; } = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Standard claims for a good token at <see cref="Now"/>; the test edits them.</summary>
    public static JsonObject Claims() => new()
    {
        ["iss"] = Issuer,
        ["sub"] = "248289761001",
        ["aud"] = ClientId,
        ["nonce"] = Nonce,
        ["iat"] = Now.ToUnixTimeSeconds(),
        ["exp"] = Now.AddMinutes(5).ToUnixTimeSeconds(),
        ["email"] = "jane@example.com",
        ["email_verified"] = true,
        ["name"] = "Jane Doe",
    };

    public string Sign(JsonObject claims, string algorithm = SecurityAlgorithms.RsaSha256, SecurityKey? key = null) =>
        Handler.CreateToken(claims.ToJsonString(), new SigningCredentials(key ?? Key, algorithm));

    /// <summary>A token with a header the test writes and a signature from <paramref name="sign"/>.</summary>
    public static string Craft(JsonObject header, JsonObject claims, Func<byte[], byte[]> sign)
    {
        var signingInput = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        return signingInput + "." + B64(sign(Encoding.ASCII.GetBytes(signingInput)));
    }

    public static string B64(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    public static IdTokenExpectations Expectations() => new(Issuer, ClientId, Nonce, TimeSpan.FromMinutes(3));
}
