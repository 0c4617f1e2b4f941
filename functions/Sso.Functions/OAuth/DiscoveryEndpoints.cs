using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using Sso.Functions.Hosting;

namespace Sso.Functions.OAuth;

/// <summary>
/// OpenID Provider metadata (OIDC Discovery §3) listing exactly what is implemented — a client
/// that sees a feature listed will use it — and the JWKS with every key of the signing ring.
/// </summary>
public static class DiscoveryEndpoints
{
    public static IReadOnlyList<FunctionEndpoint> Endpoints { get; } =
    [
        new("OpenIdConfiguration", "/.well-known/openid-configuration", ["GET"], ConfigurationAsync),
        new("OAuthJwks", "/oauth/jwks", ["GET"], JwksAsync),
    ];

    public static readonly string[] Claims =
    [
        "sub", "iss", "aud", "iat", "exp", "auth_time", "nonce", "email", "email_verified", "name", "given_name",
        "family_name", "tenant", "connection", "role", "groups", "sid",
    ];

    private static Task<IResult> ConfigurationAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        context.Response.Headers.CacheControl = "public, max-age=3600";
        return Task.FromResult(JsonResults.Ok(new JsonObject
        {
            ["issuer"] = options.Issuer,
            ["authorization_endpoint"] = options.Url("/oauth/authorize"),
            ["token_endpoint"] = options.Url("/oauth/token"),
            ["userinfo_endpoint"] = options.Url("/oauth/userinfo"),
            ["jwks_uri"] = options.Url("/oauth/jwks"),
            ["end_session_endpoint"] = options.Url(LogoutEndpoints.Path),
            ["response_types_supported"] = Array("code"),
            ["response_modes_supported"] = Array("query", "form_post"),
            ["grant_types_supported"] = Array("authorization_code"),
            ["subject_types_supported"] = Array("public"),
            ["id_token_signing_alg_values_supported"] = Array("RS256"),
            ["scopes_supported"] = Array("openid", "email", "profile"),
            ["claims_supported"] = Array(Claims),
            ["token_endpoint_auth_methods_supported"] = Array("client_secret_basic", "client_secret_post"),
            ["code_challenge_methods_supported"] = Array("S256"),
            ["authorization_response_iss_parameter_supported"] = true,
            ["claims_parameter_supported"] = false,
            ["request_parameter_supported"] = false,
            ["request_uri_parameter_supported"] = false,
        }, SsoJsonContext.Default.JsonObject));
    }

    private static async Task<IResult> JwksAsync(HttpContext context)
    {
        var keys = await context.RequestServices.GetRequiredService<TokenSigningKeys>().GetAsync(context.RequestAborted);
        var array = new JsonArray();
        foreach (var key in keys)
        {
            var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
            array.Add((JsonNode)new JsonObject
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = key.Kid,
                ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
            });
        }
        // No longer than an instance caches the key ring: after a rotation, a client that meets the
        // new kid and refetches must not be served a JWKS without it for long.
        context.Response.Headers.CacheControl = "public, max-age=60";
        return JsonResults.Ok(new JsonObject { ["keys"] = array }, SsoJsonContext.Default.JsonObject);
    }

    private static JsonArray Array(params string[] values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
}
