using System.Text;
using System.Text.Json.Nodes;
using Sso.Protocols.Oidc;

namespace Sso.Protocols.Tests.Oidc;

public class OidcDiscoveryReaderTests
{
    private const string Issuer = "https://idp.example.com";

    private static JsonObject Document(string issuer = Issuer) => new()
    {
        ["issuer"] = issuer,
        ["authorization_endpoint"] = "https://idp.example.com/authorize",
        ["token_endpoint"] = "https://idp.example.com/token",
        ["jwks_uri"] = "https://idp.example.com/jwks",
        ["userinfo_endpoint"] = "https://idp.example.com/userinfo",
        ["response_types_supported"] = new JsonArray("code", "id_token", "code id_token"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
        ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "client_secret_basic"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
        ["authorization_response_iss_parameter_supported"] = true,
    };

    private static Result<OidcProviderMetadata, OidcFailure> Read(JsonObject document, string configured = Issuer, bool development = false) =>
        OidcDiscoveryReader.Read(Encoding.UTF8.GetBytes(document.ToJsonString()), configured, development);

    [Fact]
    public void Reads_a_complete_document()
    {
        var metadata = Read(Document()).Value;
        Assert.Equal(Issuer, metadata.Issuer);
        Assert.Equal("https://idp.example.com/token", metadata.TokenEndpoint.ToString());
        Assert.Equal(OidcClientAuthMethod.ClientSecretBasic, metadata.TokenEndpointAuthMethod);
        Assert.True(metadata.SupportsPkceS256);
        Assert.True(metadata.SendsIssInAuthorizationResponse);
        Assert.NotNull(metadata.UserInfoEndpoint);
    }

    [Fact]
    public void Uses_client_secret_post_when_the_IdP_allows_only_that()
    {
        var document = Document();
        document["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "private_key_jwt");
        Assert.Equal(OidcClientAuthMethod.ClientSecretPost, Read(document).Value.TokenEndpointAuthMethod);
    }

    [Fact]
    public void Defaults_to_client_secret_basic_when_the_IdP_lists_no_methods()
    {
        var document = Document();
        document.Remove("token_endpoint_auth_methods_supported");
        Assert.Equal(OidcClientAuthMethod.ClientSecretBasic, Read(document).Value.TokenEndpointAuthMethod);
    }

    public static TheoryData<string, Action<JsonObject>, OidcFailureKind> BadDocuments => new()
    {
        { "another issuer", d => d["issuer"] = "https://evil.example.com", OidcFailureKind.DiscoveryIssuerMismatch },
        { "issuer with a trailing slash", d => d["issuer"] = Issuer + "/", OidcFailureKind.DiscoveryIssuerMismatch },
        { "no issuer", d => d.Remove("issuer"), OidcFailureKind.DiscoveryMalformed },
        { "no authorization endpoint", d => d.Remove("authorization_endpoint"), OidcFailureKind.DiscoveryMalformed },
        { "no token endpoint", d => d.Remove("token_endpoint"), OidcFailureKind.DiscoveryMalformed },
        { "no jwks_uri", d => d.Remove("jwks_uri"), OidcFailureKind.DiscoveryMalformed },
        { "an http token endpoint", d => d["token_endpoint"] = "http://idp.example.com/token", OidcFailureKind.DiscoveryEndpointInsecure },
        { "a loopback http endpoint outside Development", d => d["jwks_uri"] = "http://127.0.0.1:9000/jwks", OidcFailureKind.DiscoveryEndpointInsecure },
        { "a relative endpoint", d => d["authorization_endpoint"] = "/authorize", OidcFailureKind.DiscoveryMalformed },
        { "an endpoint with a fragment", d => d["authorization_endpoint"] = "https://idp.example.com/a#x", OidcFailureKind.DiscoveryMalformed },
        { "implicit flow only", d => d["response_types_supported"] = new JsonArray("id_token", "id_token token"), OidcFailureKind.DiscoveryCodeFlowUnsupported },
        { "no response types", d => d.Remove("response_types_supported"), OidcFailureKind.DiscoveryCodeFlowUnsupported },
        { "no authorization_code grant", d => d["grant_types_supported"] = new JsonArray("implicit"), OidcFailureKind.DiscoveryCodeFlowUnsupported },
        { "private_key_jwt only", d => d["token_endpoint_auth_methods_supported"] = new JsonArray("private_key_jwt"), OidcFailureKind.DiscoveryAuthMethodUnsupported },
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public void Rejects_a_document_that_breaks_a_rule(string _, Action<JsonObject> edit, OidcFailureKind kind)
    {
        var document = Document();
        edit(document);
        var result = Read(document);
        Assert.False(result.IsSuccess);
        Assert.Equal(kind, result.Error.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{")]
    [InlineData("\"issuer\"")]
    [InlineData("{\"issuer\":\"https://idp.example.com\",\"issuer\":\"https://evil.example.com\"}")]
    public void Rejects_a_document_that_is_not_a_JSON_object(string text)
    {
        var result = OidcDiscoveryReader.Read(Encoding.UTF8.GetBytes(text), Issuer, false);
        Assert.Equal(OidcFailureKind.DiscoveryMalformed, result.Error.Kind);
    }

    [Fact]
    public void Rejects_a_document_larger_than_the_limit()
    {
        var document = Document();
        document["padding"] = new string('x', OidcDiscoveryReader.MaxDocumentBytes);
        Assert.Equal(OidcFailureKind.IdpResponseTooLarge, Read(document).Error.Kind);
    }

    [Fact]
    public void Accepts_loopback_http_in_Development()
    {
        var document = Document("http://127.0.0.1:4000");
        foreach (var name in new[] { "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint" })
            document[name] = "http://127.0.0.1:4000/" + name;
        Assert.True(Read(document, "http://127.0.0.1:4000", development: true).IsSuccess);
    }

    [Theory]
    [InlineData("https://login.microsoftonline.com/organizations/v2.0", true)]
    [InlineData("https://login.microsoftonline.com/common/v2.0", true)]
    [InlineData("https://login.microsoftonline.com/organizations/v2.0/", true)]
    [InlineData("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", false)]
    [InlineData("https://login.evil.example/organizations/v2.0", false)]
    [InlineData("https://login.microsoftonline.com/consumers/v2.0", false)]
    public void Matches_the_Entra_tenant_template_only_for_a_multi_tenant_authority(string configured, bool matches)
    {
        Assert.Equal(matches, OidcDiscoveryReader.IssuerMatches("https://login.microsoftonline.com/{tenantid}/v2.0", configured));
    }

    [Fact]
    public void Marks_an_Entra_template_issuer()
    {
        var document = Document("https://login.microsoftonline.com/{tenantid}/v2.0");
        var metadata = Read(document, "https://login.microsoftonline.com/organizations/v2.0").Value;
        Assert.True(metadata.IsIssuerTemplate);
    }

    [Theory]
    [InlineData("https://acme.okta.com/oauth2/default", "https://acme.okta.com/oauth2/default/.well-known/openid-configuration")]
    [InlineData("https://acme.okta.com/oauth2/aus1a2b3c4/", "https://acme.okta.com/oauth2/aus1a2b3c4/.well-known/openid-configuration")]
    [InlineData("https://accounts.google.com", "https://accounts.google.com/.well-known/openid-configuration")]
    [InlineData("https://login.microsoftonline.com/organizations/v2.0", "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration")]
    public void Finds_discovery_under_the_issuer_path_as_Okta_custom_authorization_servers_need(string issuer, string expected)
    {
        Assert.Equal(expected, OidcDiscoveryReader.DiscoveryUrl(issuer));
    }
}
