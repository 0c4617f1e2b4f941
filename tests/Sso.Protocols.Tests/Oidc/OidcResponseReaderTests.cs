using System.Text;
using System.Text.Json.Nodes;
using Sso.Protocols.Oidc;

namespace Sso.Protocols.Tests.Oidc;

public class OidcResponseReaderTests
{
    private static readonly TestOp Op = new();

    [Fact]
    public void Reads_a_token_response()
    {
        var result = OidcTokenResponseReader.Read(200, Encoding.UTF8.GetBytes("""{"access_token":"at","token_type":"Bearer","id_token":"a.b.c","expires_in":3600}"""));
        Assert.Equal("a.b.c", result.Value.IdToken);
        Assert.Equal("at", result.Value.AccessToken);
    }

    [Theory]
    [InlineData(400, """{"error":"invalid_grant","error_description":"grant request is invalid"}""", OidcFailureKind.TokenEndpointError)]
    [InlineData(200, """{"error":"invalid_grant"}""", OidcFailureKind.TokenEndpointError)]
    [InlineData(500, "<html>oops</html>", OidcFailureKind.TokenEndpointError)]
    [InlineData(200, "<html>oops</html>", OidcFailureKind.TokenResponseMalformed)]
    [InlineData(200, """{"access_token":"at","token_type":"Bearer"}""", OidcFailureKind.TokenResponseMalformed)]
    [InlineData(200, """{"id_token":"a.b.c","id_token":"d.e.f"}""", OidcFailureKind.TokenResponseMalformed)]
    public void Rejects_an_error_or_incomplete_token_response(int status, string body, OidcFailureKind kind)
    {
        var result = OidcTokenResponseReader.Read(status, Encoding.UTF8.GetBytes(body));
        Assert.Equal(kind, result.Error.Kind);
    }

    [Fact]
    public async Task Merges_userinfo_claims_only_where_the_id_token_has_none()
    {
        var claims = TestOp.Claims();
        claims.Remove("email");
        claims.Remove("email_verified");
        var token = (await IdTokenValidator.ValidateAsync(Op.Sign(claims), Op.Jwks, TestOp.Expectations(), TestOp.Now)).Value;
        Assert.True(OidcUserInfoReader.NeedsUserInfo(token));

        var userInfo = OidcUserInfoReader.Read(Encoding.UTF8.GetBytes(
            """{"sub":"248289761001","email":"jane@example.com","email_verified":true,"name":"Someone Else","hd":"evil.example"}"""), token.Subject).Value;
        var merged = OidcUserInfoReader.Merge(token, userInfo);

        Assert.Equal("jane@example.com", merged.Email);
        Assert.True(merged.EmailVerified);
        Assert.Equal("Jane Doe", merged.Name);
        Assert.Null(merged.Claims["hd"]);
    }

    [Fact]
    public void Rejects_userinfo_about_another_subject()
    {
        var result = OidcUserInfoReader.Read(Encoding.UTF8.GetBytes("""{"sub":"someone-else","email":"x@example.com"}"""), "248289761001");
        Assert.Equal(OidcFailureKind.UserInfoSubjectMismatch, result.Error.Kind);
    }

    [Fact]
    public void Reads_a_JWKS_keeping_only_public_signing_keys()
    {
        var jwks = new JsonObject
        {
            ["keys"] = new JsonArray(
                JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Op.PublicJwk.ToDictionaryForTest())),
                new JsonObject { ["kty"] = "oct", ["k"] = "c2VjcmV0", ["kid"] = "oct" },
                new JsonObject { ["kty"] = "RSA", ["use"] = "enc", ["kid"] = "enc", ["n"] = Op.PublicJwk.N, ["e"] = Op.PublicJwk.E }),
        };
        var keys = OidcJwksReader.Read(Encoding.UTF8.GetBytes(jwks.ToJsonString())).Value;
        Assert.Equal(["key-1"], keys.Select(k => k.Kid));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("""{"keys":"x"}""")]
    [InlineData("not json")]
    public void Rejects_a_malformed_JWKS(string text)
    {
        Assert.Equal(OidcFailureKind.JwksMalformed, OidcJwksReader.Read(Encoding.UTF8.GetBytes(text)).Error.Kind);
    }
}

internal static class JsonWebKeyTestExtensions
{
    public static Dictionary<string, string> ToDictionaryForTest(this Microsoft.IdentityModel.Tokens.JsonWebKey key) => new()
    {
        ["kty"] = key.Kty, ["kid"] = key.Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = key.N, ["e"] = key.E,
    };
}
