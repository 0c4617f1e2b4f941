using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// Signs in through a SAML IdP that nobody here wrote: samlify (npm), run by node from
/// tests/peers/. The service reads samlify's metadata from its URL, samlify reads ours, parses
/// our AuthnRequest and signs its Response; the test carries the browser's part.
/// </summary>
public class SamlifyIdpTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>, IAsyncLifetime
{
    protected virtual bool EncryptAssertions => false;

    private Process? _node;
    private string _folder = "";
    private int _port;

    public async Task InitializeAsync()
    {
        var script = Path.Combine(RepositoryPaths.Root, "tests", "peers", "samlify-idp.js");
        if (!Directory.Exists(Path.Combine(RepositoryPaths.Root, "tests", "peers", "node_modules", "samlify")))
            throw new InvalidOperationException("samlify is not installed in tests/peers; run ./test.sh (it installs it).");
        _folder = Directory.CreateTempSubdirectory("samlify-idp").FullName;
        using var rsa = RSA.Create(2048);
        var certificate = new CertificateRequest("CN=samlify test IdP", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        await File.WriteAllTextAsync(Path.Combine(_folder, "key.pem"), rsa.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(Path.Combine(_folder, "cert.pem"), certificate.ExportCertificatePem());
        _port = AzuriteServer.FreePort();
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { script, _port.ToString(), Path.Combine(_folder, "key.pem"), Path.Combine(_folder, "cert.pem") },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["IDP_USER_EMAIL"] = "alice@" + Domain;
        start.Environment["IDP_ENCRYPT"] = EncryptAssertions ? "1" : "0";
        _node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        _node.ErrorDataReceived += (_, _) => { };
        _node.BeginErrorReadLine();
        var ready = await _node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        if (ready != "listening") throw new InvalidOperationException("samlify IdP did not start: " + ready);
    }

    public virtual Task DisposeAsync()
    {
        try
        {
            if (_node is { HasExited: false }) _node.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _node?.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private readonly string _domain = "samlify" + Guid.NewGuid().ToString("N")[..8] + ".test";
    private string Domain => _domain;

    [Fact]
    public async Task Signs_in_through_samlify_from_authorize_to_a_validated_id_token_and_userinfo()
    {
        var admin = fixture.App.CreateAdminClient();
        var browser = fixture.App.CreateAnonymousClient();
        var idpBase = $"http://127.0.0.1:{_port}";
        using var idpClient = new HttpClient { BaseAddress = new Uri(idpBase), Timeout = TimeSpan.FromSeconds(20) };

        var tenant = await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Samlify Corp", domains = new[] { Domain } });
        var tenantId = (await tenant.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsync($"/api/v1/tenants/{tenantId}",
            JsonContent.Create(new JsonObject { ["settings"] = new JsonObject { ["jitProvisioning"] = true } }))).StatusCode);
        var client = (await (await admin.PostAsJsonAsync("/api/v1/clients",
            new { name = "Product", redirectUris = new[] { SignInFlow.RedirectUri } })).Content.ReadFromJsonAsync<JsonObject>())!;
        var clientId = client["clientId"]!.GetValue<string>();

        // The service fetches samlify's own metadata.
        var created = await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/connections",
            new JsonObject { ["type"] = "saml", ["idpMetadataUrl"] = idpBase + "/metadata" });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var connectionId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();

        // samlify reads our SP metadata.
        var spMetadata = await browser.GetStringAsync($"/saml/metadata/{connectionId}");
        Assert.Equal(HttpStatusCode.NoContent,
            (await idpClient.PostAsync("/sp-metadata", new StringContent(spMetadata, Encoding.UTF8, "application/xml"))).StatusCode);

        var (verifier, challenge) = SignInFlow.NewPkce();
        var authorize = await browser.GetAsync(
            $"/oauth/authorize?response_type=code&client_id={clientId}&redirect_uri={Uri.EscapeDataString(SignInFlow.RedirectUri)}" +
            $"&scope=openid%20email%20profile&state=samlify-state&nonce=nonce-1&code_challenge={challenge}&code_challenge_method=S256" +
            $"&login_hint=alice%40{Domain}");
        Assert.Equal(HttpStatusCode.Redirect, authorize.StatusCode);
        var atIdp = authorize.Headers.Location!;
        Assert.StartsWith(idpBase + "/sso?", atIdp.ToString());

        var idpAnswer = await idpClient.GetAsync(atIdp.PathAndQuery);
        Assert.True(idpAnswer.IsSuccessStatusCode, await idpAnswer.Content.ReadAsStringAsync());
        var postedText = await idpAnswer.Content.ReadAsStringAsync();
        var posted = JsonNode.Parse(postedText)!.AsObject();
        Assert.True(posted["acs"] is not null, postedText.Length > 400 ? postedText[..400] : postedText);
        var responseXml = Encoding.UTF8.GetString(Convert.FromBase64String(posted["SAMLResponse"]!.GetValue<string>()));
        Assert.Equal(EncryptAssertions, responseXml.Contains("EncryptedAssertion"));
        Assert.Equal($"http://localhost/saml/acs/{connectionId}", posted["acs"]!.GetValue<string>());

        var acs = await browser.PostAsync($"/saml/acs/{connectionId}", new FormUrlEncodedContent(
        [
            new("SAMLResponse", posted["SAMLResponse"]!.GetValue<string>()),
            new("RelayState", posted["RelayState"]!.GetValue<string>()),
        ]));
        var callback = SignInFlow.CallbackParameters(acs);
        Assert.True(callback.ContainsKey("code"), string.Join("&", callback.Select(p => p.Key + "=" + p.Value)));
        Assert.Equal("samlify-state", callback["state"]);

        var tokenRequest = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new FormUrlEncodedContent(
            [
                new("grant_type", "authorization_code"), new("code", callback["code"]),
                new("redirect_uri", SignInFlow.RedirectUri), new("code_verifier", verifier),
                new("client_id", clientId), new("client_secret", client["clientSecret"]!.GetValue<string>()),
            ]),
        };
        var token = await browser.SendAsync(tokenRequest);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        var tokens = (await token.Content.ReadFromJsonAsync<JsonObject>())!;

        var jwks = new JsonWebKeySet(await browser.GetStringAsync("/oauth/jwks"));
        var validated = await new JsonWebTokenHandler().ValidateTokenAsync(tokens["id_token"]!.GetValue<string>(), new TokenValidationParameters
        {
            ValidIssuer = "http://localhost",
            ValidAudience = clientId,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            LifetimeValidator = (_, expires, _, _) => expires > fixture.App.Clock.GetUtcNow().UtcDateTime,
        });
        Assert.True(validated.IsValid, validated.Exception?.Message);
        var idToken = (JsonWebToken)validated.SecurityToken;
        Assert.Equal("alice@" + Domain, idToken.GetClaim("email").Value);
        Assert.Equal("Alice Liddell", idToken.GetClaim("name").Value);
        Assert.Equal("nonce-1", idToken.GetClaim("nonce").Value);

        var userinfo = new HttpRequestMessage(HttpMethod.Get, "/oauth/userinfo");
        userinfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
        var profile = (await (await browser.SendAsync(userinfo)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(idToken.Subject, profile["sub"]!.GetValue<string>());
        Assert.Equal(["engineering", "admins"], profile["groups"]!.AsArray().Select(g => g!.GetValue<string>()));
    }
}

/// <summary>The same sign-in with samlify encrypting the signed assertion (AES-256-CBC, RSA-OAEP) to our SP certificate.</summary>
public sealed class SamlifyEncryptedAssertionTests(SsoAppFixture fixture) : SamlifyIdpTests(fixture)
{
    protected override bool EncryptAssertions => true;
}
