using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Sso.Functions.Tests.Oidc;

/// <summary>
/// A small OpenID Provider on loopback for the token-content negatives: it serves discovery, JWKS,
/// a token endpoint that hands out whatever id_token the test crafted (each code once) and
/// UserInfo. Keys are generated per instance; nothing here is certified — the positive
/// end-to-end test runs against oidc-provider.
/// </summary>
public sealed class FakeOp : IAsyncDisposable
{
    public const string ClientId = "fake-client";
    public const string ClientSecret = "fake-secret-0123456789";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, bool> _usedCodes = new();

    private FakeOp(WebApplication app, RSA rsa)
    {
        _app = app;
        Rsa = rsa;
    }

    public string Issuer { get; private set; } = "";
    public string EntraAuthority => Issuer + "/organizations/v2.0";
    public string EntraIssuerTemplate => Issuer + "/{tenantid}/v2.0";
    public string EntraIssuer(string tid) => Issuer + "/" + tid + "/v2.0";
    public RSA Rsa { get; }
    public string Kid { get; set; } = "fake-key-1";

    /// <summary>The id_token the token endpoint returns next; set by the test.</summary>
    public Func<string>? IdToken { get; set; }

    public JsonObject UserInfo { get; set; } = new();

    /// <summary>How long the token endpoint stalls before answering (a slow IdP).</summary>
    public TimeSpan TokenDelay { get; set; }
    public int TokenRequests;
    public int JwksRequests;
    public string? LastTokenAuthorization { get; private set; }
    public Dictionary<string, string> LastTokenForm { get; private set; } = [];
    public Action<JsonObject>? EditDiscovery { get; set; }

    public static async Task<FakeOp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var rsa = RSA.Create(2048);
        var app = builder.Build();
        var op = new FakeOp(app, rsa);
        app.MapGet("/.well-known/openid-configuration", () => Results.Text(op.Discovery().ToJsonString(), "application/json"));
        // Entra ID's multi-tenant authority: /organizations/v2.0 publishes the {tenantid} issuer template.
        app.MapGet("/organizations/v2.0/.well-known/openid-configuration", () =>
        {
            var document = op.Discovery();
            document["issuer"] = op.EntraIssuerTemplate;
            return Results.Text(document.ToJsonString(), "application/json");
        });
        // Entra ID's single-tenant authority: /<tenant id>/v2.0 publishes that tenant's issuer.
        app.MapGet("/{tid:guid}/v2.0/.well-known/openid-configuration", (Guid tid) =>
        {
            var document = op.Discovery();
            document["issuer"] = op.EntraIssuer(tid.ToString("D"));
            return Results.Text(document.ToJsonString(), "application/json");
        });
        app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref op.JwksRequests);
            return Results.Text(op.Jwks().ToJsonString(), "application/json");
        });
        app.MapPost("/token", async (HttpContext context) =>
        {
            Interlocked.Increment(ref op.TokenRequests);
            if (op.TokenDelay > TimeSpan.Zero)
            {
                try { await Task.Delay(op.TokenDelay, context.RequestAborted); }
                catch (OperationCanceledException) { return Results.Empty; }
            }
            var form = await context.Request.ReadFormAsync();
            op.LastTokenForm = form.ToDictionary(f => f.Key, f => f.Value.ToString());
            op.LastTokenAuthorization = context.Request.Headers.Authorization.ToString();
            var code = form["code"].ToString();
            if (code.Length == 0 || !op._usedCodes.TryAdd(code, true))
                return Results.Json(new JsonObject { ["error"] = "invalid_grant", ["error_description"] = "code already used" }, statusCode: 400);
            var token = op.IdToken?.Invoke() ?? "";
            return Results.Text(new JsonObject
            {
                ["access_token"] = "fake-access-token",
                ["token_type"] = "Bearer",
                ["expires_in"] = 300,
                ["id_token"] = token,
            }.ToJsonString(), "application/json");
        });
        app.MapGet("/userinfo", (HttpContext context) =>
            context.Request.Headers.Authorization.ToString() == "Bearer fake-access-token"
                ? Results.Text(op.UserInfo.ToJsonString(), "application/json")
                : Results.StatusCode(401));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        op.Issuer = address.TrimEnd('/');
        return op;
    }

    public JsonObject Discovery()
    {
        var document = new JsonObject
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = Issuer + "/authorize",
            ["token_endpoint"] = Issuer + "/token",
            ["jwks_uri"] = Issuer + "/jwks",
            ["userinfo_endpoint"] = Issuer + "/userinfo",
            ["response_types_supported"] = new JsonArray("code"),
            ["subject_types_supported"] = new JsonArray("public"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post"),
            ["code_challenge_methods_supported"] = new JsonArray("S256"),
            ["authorization_response_iss_parameter_supported"] = true,
        };
        EditDiscovery?.Invoke(document);
        return document;
    }

    public JsonObject Jwks()
    {
        var parameters = Rsa.ExportParameters(false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = Kid,
                ["n"] = Base64UrlEncoder.Encode(parameters.Modulus), ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
            }),
        };
    }

    /// <summary>The email <see cref="Claims"/> asserts unless told otherwise: set it to an address of the test's tenant.</summary>
    public string DefaultEmail { get; set; } = "alice@acme.test";

    /// <summary>Good claims for <paramref name="nonce"/> at <paramref name="now"/>; the test edits them.</summary>
    public JsonObject Claims(string nonce, DateTimeOffset now, string? email = null) => new()
    {
        ["iss"] = Issuer,
        ["sub"] = "fake-user-1",
        ["aud"] = ClientId,
        ["nonce"] = nonce,
        ["iat"] = now.ToUnixTimeSeconds(),
        ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
        ["email"] = email ?? DefaultEmail,
        ["email_verified"] = true,
        ["name"] = "Alice Liddell",
    };

    public string Sign(JsonObject claims, RSA? key = null, string? kid = null) =>
        new JsonWebTokenHandler().CreateToken(claims.ToJsonString(),
            new SigningCredentials(new RsaSecurityKey(key ?? Rsa) { KeyId = kid ?? Kid }, SecurityAlgorithms.RsaSha256));

    public static string Unsigned(JsonObject claims)
    {
        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        return B64("""{"alg":"none","typ":"JWT"}""") + "." + B64(claims.ToJsonString()) + ".";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Rsa.Dispose();
    }
}
