using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Sso.Functions.Storage.Secrets;

namespace Sso.Functions.Tests.Storage;

/// <summary>
/// The Key Vault store against a loopback HTTPS listener that answers like Key Vault's REST API
/// (challenge, then bearer-authenticated secret calls) and records every request.
/// </summary>
public sealed class KeyVaultSecretStoreTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, string> _vault = new();
    private readonly ConcurrentQueue<(string Method, string Path, string? Authorization)> _requests = new();
    private WebApplication? _server;
    private X509Certificate2? _certificate;
    private Uri _vaultUri = null!;

    public async Task InitializeAsync()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        _certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);

        var port = Sso.Testing.AzuriteServer.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(_certificate)));
        _server = builder.Build();
        _server.Run(HandleAsync);
        await _server.StartAsync();
        _vaultUri = new Uri($"https://127.0.0.1:{port}/");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _certificate?.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        _requests.Enqueue((context.Request.Method, context.Request.Path.Value!, authorization.Length > 0 ? authorization : null));
        if (authorization != "Bearer kv-token")
        {
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate =
                "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", resource=\"https://vault.azure.net\"";
            return;
        }
        var segments = context.Request.Path.Value!.Trim('/').Split('/');
        var name = segments.Length > 1 ? segments[1] : "";
        context.Response.ContentType = "application/json";
        switch (context.Request.Method)
        {
            case "PUT":
                var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())!;
                _vault[name] = body["value"]!.GetValue<string>();
                await context.Response.WriteAsync(SecretJson(name, _vault[name]));
                break;
            case "GET" when _vault.TryGetValue(name, out var value):
                await context.Response.WriteAsync(SecretJson(name, value));
                break;
            case "GET":
                context.Response.StatusCode = 404;
                await context.Response.WriteAsync("""{"error":{"code":"SecretNotFound","message":"not found"}}""");
                break;
            case "DELETE" when _vault.TryRemove(name, out var removed):
                await context.Response.WriteAsync(SecretJson(name, removed));
                break;
            default:
                context.Response.StatusCode = 404;
                await context.Response.WriteAsync("""{"error":{"code":"SecretNotFound","message":"not found"}}""");
                break;
        }
    }

    private string SecretJson(string name, string value) => new JsonObject
    {
        ["value"] = value,
        ["id"] = $"{_vaultUri}secrets/{name}/0123456789abcdef0123456789abcdef",
        ["attributes"] = new JsonObject { ["enabled"] = true, ["created"] = 1764590400, ["updated"] = 1764590400 },
    }.ToJsonString();

    private sealed class FixedToken : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new("kv-token", DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }

    private KeyVaultSecretStore CreateStore()
    {
        var thumbprint = _certificate!.Thumbprint;
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == thumbprint,
        };
        var options = new SecretClientOptions
        {
            Transport = new HttpClientTransport(new HttpClient(handler)),
            DisableChallengeResourceVerification = true,
        };
        options.Retry.MaxRetries = 0;
        return new KeyVaultSecretStore(_vaultUri, new FixedToken(), options);
    }

    [Fact]
    public async Task Stores_reads_and_deletes_a_secret_with_a_bearer_token()
    {
        var store = CreateStore();

        await store.SetAsync("oidc-client-secret-con1", "s3cret", default);
        Assert.Equal("s3cret", await store.GetAsync("oidc-client-secret-con1", default));
        await store.DeleteAsync("oidc-client-secret-con1", default);

        Assert.False(_vault.ContainsKey("oidc-client-secret-con1"));
        var authenticated = _requests.Where(r => r.Authorization is not null).Select(r => (r.Method, r.Path)).ToList();
        Assert.Contains(("PUT", "/secrets/oidc-client-secret-con1"), authenticated);
        Assert.Contains(authenticated, r => r.Method == "GET" && r.Path.StartsWith("/secrets/oidc-client-secret-con1", StringComparison.Ordinal));
        Assert.Contains(("DELETE", "/secrets/oidc-client-secret-con1"), authenticated);
        Assert.All(_requests.Where(r => r.Authorization is not null), r => Assert.Equal("Bearer kv-token", r.Authorization));
    }

    [Fact]
    public async Task Returns_null_for_a_secret_that_does_not_exist()
    {
        Assert.Null(await CreateStore().GetAsync("never-set", default));
    }

    [Fact]
    public async Task Deleting_a_missing_secret_is_not_an_error()
    {
        await CreateStore().DeleteAsync("never-set", default);
    }
}
