using System.Security.Cryptography;
using System.Text;
using System.Web;
using Sso.Protocols.Oidc;

namespace Sso.Protocols.Tests.Oidc;

public class OidcAuthorizationRequestTests
{
    private static OidcAuthorizationRequest Request(string endpoint = "https://idp.example.com/authorize", string[]? scopes = null) => new(
        new Uri(endpoint), "client-123", "https://sso.example.com/oidc/callback", scopes ?? ["openid", "email", "profile"],
        "psi_state", "nonce-1", "verifier-abcdefghijklmnopqrstuvwxyz0123456789-._~");

    [Fact]
    public void Forwards_prompt_login_and_max_age_only_when_demanded()
    {
        var plain = HttpUtility.ParseQueryString(Request().ToUri().Query);
        Assert.Null(plain["prompt"]);
        Assert.Null(plain["max_age"]);

        var stepUp = HttpUtility.ParseQueryString((Request() with { ForceLogin = true, MaxAgeSeconds = 0 }).ToUri().Query);
        Assert.Equal("login", stepUp["prompt"]);
        Assert.Equal("0", stepUp["max_age"]);
    }

    [Fact]
    public void Builds_a_code_flow_request_with_PKCE_S256()
    {
        var uri = Request().ToUri();
        var query = HttpUtility.ParseQueryString(uri.Query);

        Assert.Equal("https://idp.example.com/authorize", uri.GetLeftPart(UriPartial.Path));
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("client-123", query["client_id"]);
        Assert.Equal("https://sso.example.com/oidc/callback", query["redirect_uri"]);
        Assert.Equal("openid email profile", query["scope"]);
        Assert.Equal("psi_state", query["state"]);
        Assert.Equal("nonce-1", query["nonce"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        var expected = System.Buffers.Text.Base64Url.EncodeToString(
            SHA256.HashData(Encoding.ASCII.GetBytes("verifier-abcdefghijklmnopqrstuvwxyz0123456789-._~")));
        Assert.Equal(expected, query["code_challenge"]);
    }

    [Fact]
    public void Matches_the_RFC_7636_appendix_B_example()
    {
        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            OidcAuthorizationRequest.CodeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
    }

    [Fact]
    public void Keeps_query_parameters_of_the_IdP_endpoint()
    {
        var uri = Request("https://idp.example.com/authorize?p=B2C_1_signin").ToUri();
        var query = HttpUtility.ParseQueryString(uri.Query);
        Assert.Equal("B2C_1_signin", query["p"]);
        Assert.Equal("code", query["response_type"]);
    }

    [Theory]
    [InlineData(new[] { "email", "groups" }, "openid email groups")]
    [InlineData(new[] { "openid", "openid", "email" }, "openid email")]
    [InlineData(new string[0], "openid")]
    public void Sends_openid_first_and_once(string[] scopes, string expected)
    {
        var query = HttpUtility.ParseQueryString(Request(scopes: scopes).ToUri().Query);
        Assert.Equal(expected, query["scope"]);
    }
}
