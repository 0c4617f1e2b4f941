using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using System.Xml;
using Sso.Functions.Connections;
using Sso.Functions.Saml;
using Sso.Functions.Storage.Secrets;
using Sso.Testing;

namespace Sso.Functions.Tests.Saml;

/// <summary>
/// A SAML connection's SP key rollover with sign-ins before, during and after: the IdP may
/// keep encrypting to the old certificate until the old key is retired, AuthnRequests are
/// signed with the new key from the rotation on, and the SP metadata lists every key for
/// signing meanwhile (the current one alone for encryption).
/// Each test has its own app and clock.
/// </summary>
public class SpKeyRotationTests
{
    private const string Md = "urn:oasis:names:tc:SAML:2.0:metadata";
    private const string Ds = "http://www.w3.org/2000/09/xmldsig#";

    private static JsonObject Jit => new() { ["jitProvisioning"] = true };

    private static string KeysPath(SignInFlow flow) => $"/api/v1/tenants/{flow.TenantId}/connections/{flow.ConnectionId}/sp-keys";

    private static async Task<JsonArray> ListKeysAsync(SignInFlow flow) =>
        (await flow.Admin.GetFromJsonAsync<JsonObject>(KeysPath(flow)))!["data"]!.AsArray();

    /// <summary>The certificates the SP metadata publishes for a use, in document order.</summary>
    private static async Task<List<X509Certificate2>> MetadataCertificatesAsync(SignInFlow flow, string use)
    {
        var metadata = new XmlDocument { XmlResolver = null };
        metadata.LoadXml(await flow.Browser.GetStringAsync($"/saml/metadata/{flow.ConnectionId}"));
        return metadata.GetElementsByTagName("KeyDescriptor", Md).OfType<XmlElement>()
            .Where(d => d.GetAttribute("use") == use)
            .Select(d => X509CertificateLoader.LoadCertificate(Convert.FromBase64String(
                d.GetElementsByTagName("X509Certificate", Ds)[0]!.InnerText)))
            .ToList();
    }

    /// <summary>The IdP's signed response with its assertion encrypted to <paramref name="recipient"/> (AES-256-GCM, RSA-OAEP).</summary>
    private static string EncryptedResponse(SignInFlow flow, SamlTestIdp.Assertion assertion, X509Certificate2 recipient)
    {
        var document = new XmlDocument { PreserveWhitespace = true, XmlResolver = null };
        document.LoadXml(Encoding.UTF8.GetString(Convert.FromBase64String(flow.Idp.SignedResponse(assertion))));
        var element = (XmlElement)document.GetElementsByTagName("Assertion", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!;
        var key = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var plaintext = Encoding.UTF8.GetBytes(element.OuterXml);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        using (var gcm = new AesGcm(key, 16)) gcm.Encrypt(nonce, plaintext, ciphertext, tag);
        using var rsa = recipient.GetRSAPublicKey()!;
        var wrapped = rsa.Encrypt(key, RSAEncryptionPadding.OaepSHA1);
        var fragment = document.CreateDocumentFragment();
        fragment.InnerXml =
            "<saml:EncryptedAssertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">" +
            "<xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" Type=\"http://www.w3.org/2001/04/xmlenc#Element\">" +
            "<xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/>" +
            "<ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><xenc:EncryptedKey>" +
            "<xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/>" +
            $"<xenc:CipherData><xenc:CipherValue>{Convert.ToBase64String(wrapped)}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>" +
            $"<xenc:CipherData><xenc:CipherValue>{Convert.ToBase64String([.. nonce, .. ciphertext, .. tag])}</xenc:CipherValue></xenc:CipherData>" +
            "</xenc:EncryptedData></saml:EncryptedAssertion>";
        element.ParentNode!.ReplaceChild(fragment, element);
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(document.OuterXml));
    }

    /// <summary>authorize, then the IdP posts an assertion encrypted to <paramref name="recipient"/>; the redirect's parameters.</summary>
    private static async Task<Dictionary<string, string>> SignInEncryptedToAsync(SignInFlow flow, X509Certificate2 recipient, string state)
    {
        var (requestId, relayState) = await flow.StartAsync(state, SignInFlow.NewPkce().Challenge);
        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(EncryptedResponse(flow, flow.Assertion(requestId), recipient), relayState));
        Assert.Equal(state, callback["state"]);
        return callback;
    }

    private static async Task<string> RotateAsync(SignInFlow flow)
    {
        var rotated = await flow.Admin.PostAsync(KeysPath(flow) + "/rotate", null);
        Assert.True(rotated.StatusCode == HttpStatusCode.Created, await rotated.Content.ReadAsStringAsync());
        var view = (await rotated.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("current", view["status"]!.GetValue<string>());
        return view["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task Signs_in_with_encrypted_assertions_before_during_and_after_a_rotation()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var flow = await SignInFlow.CreateAsync(app, Jit);

        var original = Assert.Single(await MetadataCertificatesAsync(flow, "encryption"));
        Assert.Equal(original.Thumbprint, Assert.Single(await MetadataCertificatesAsync(flow, "signing")).Thumbprint);
        var originalKey = Assert.Single(await ListKeysAsync(flow))!;
        Assert.Equal("current", originalKey["status"]!.GetValue<string>());
        var originalId = originalKey["id"]!.GetValue<string>();
        Assert.True(originalKey["notAfter"]!.GetValue<DateTimeOffset>() > app.Clock.GetUtcNow().AddYears(5));
        Assert.True((await SignInEncryptedToAsync(flow, original, "before")).ContainsKey("code"));

        var newId = await RotateAsync(flow);

        // During: both certificates published for signing, the new one first; only the new one
        // for encryption, so an IdP that reads the metadata now moves to the key that stays.
        var signing = await MetadataCertificatesAsync(flow, "signing");
        Assert.Equal(2, signing.Count);
        Assert.Equal(original.Thumbprint, signing[1].Thumbprint);
        var rotatedCertificate = signing[0];
        Assert.NotEqual(original.Thumbprint, rotatedCertificate.Thumbprint);
        Assert.Equal([rotatedCertificate.Thumbprint], (await MetadataCertificatesAsync(flow, "encryption")).Select(c => c.Thumbprint));
        Assert.Equal([(newId, "current"), (originalId, "previous")],
            (await ListKeysAsync(flow)).Select(k => (k!["id"]!.GetValue<string>(), k["status"]!.GetValue<string>())));
        // The IdP has not been told yet and still encrypts to the old certificate; one that has, to the new.
        Assert.True((await SignInEncryptedToAsync(flow, original, "during-old")).ContainsKey("code"));
        Assert.True((await SignInEncryptedToAsync(flow, rotatedCertificate, "during-new")).ContainsKey("code"));

        var retireCurrent = await flow.Admin.DeleteAsync($"{KeysPath(flow)}/{newId}");
        Assert.Equal(HttpStatusCode.Conflict, retireCurrent.StatusCode);
        Assert.Equal("application/problem+json", retireCurrent.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await flow.Admin.DeleteAsync($"{KeysPath(flow)}/spk_nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await flow.Admin.DeleteAsync($"{KeysPath(flow)}/{originalId}")).StatusCode);

        // After: only the new certificate; an assertion encrypted to the retired one is refused.
        Assert.Equal([rotatedCertificate.Thumbprint], (await MetadataCertificatesAsync(flow, "encryption")).Select(c => c.Thumbprint));
        Assert.Equal([rotatedCertificate.Thumbprint], (await MetadataCertificatesAsync(flow, "signing")).Select(c => c.Thumbprint));
        var refused = await SignInEncryptedToAsync(flow, original, "after-old");
        Assert.Equal("access_denied", refused["error"]);
        Assert.Equal("idp_response_rejected", refused["error_description"]);
        Assert.False(refused.ContainsKey("code"));
        Assert.True((await SignInEncryptedToAsync(flow, rotatedCertificate, "after-new")).ContainsKey("code"));
        Assert.Equal([newId], (await ListKeysAsync(flow)).Select(k => k!["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Signs_AuthnRequests_with_the_new_key_from_the_rotation_on()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var flow = await SignInFlow.CreateAsync(app, Jit, new JsonObject { ["signAuthnRequests"] = true });
        var original = Assert.Single(await MetadataCertificatesAsync(flow, "signing"));
        Assert.True(await RedirectSignedByAsync(flow, original));

        await RotateAsync(flow);
        var rotated = (await MetadataCertificatesAsync(flow, "signing"))[0];

        Assert.NotEqual(original.Thumbprint, rotated.Thumbprint);
        Assert.True(await RedirectSignedByAsync(flow, rotated));
        Assert.False(await RedirectSignedByAsync(flow, original));
    }

    /// <summary>Whether the HTTP-Redirect AuthnRequest verifies with the certificate (bindings §3.4.4.1).</summary>
    private static async Task<bool> RedirectSignedByAsync(SignInFlow flow, X509Certificate2 certificate)
    {
        var response = await flow.Browser.GetAsync(flow.AuthorizeUrl("signed", SignInFlow.NewPkce().Challenge));
        var location = response.Headers.Location!.OriginalString;
        var rawQuery = location[(location.IndexOf('?') + 1)..];
        var signedPart = rawQuery[..rawQuery.IndexOf("&Signature=", StringComparison.Ordinal)];
        var signature = Convert.FromBase64String(HttpUtility.ParseQueryString(rawQuery)["Signature"]!);
        using var rsa = certificate.GetRSAPublicKey()!;
        return rsa.VerifyData(Encoding.UTF8.GetBytes(signedPart), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    [Fact]
    public async Task Reads_a_single_key_secret_from_before_rings_and_keeps_it_through_a_rotation()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var flow = await SignInFlow.CreateAsync(app, Jit);
        // The format of a connection created before key rings: one base64 PKCS#12.
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=legacy SP", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var legacy = request.CreateSelfSigned(app.Clock.GetUtcNow().AddDays(-1), app.Clock.GetUtcNow().AddYears(10));
        var secretName = SamlServiceProviderKeys.SecretName(new ConnectionId(flow.ConnectionId));
        await app.Get<ISecretStore>().SetAsync(secretName, Convert.ToBase64String(legacy.Export(X509ContentType.Pkcs12)), default);
        app.Clock.Advance(SamlServiceProviderKeys.CacheFor);

        Assert.Equal([legacy.Thumbprint], (await MetadataCertificatesAsync(flow, "encryption")).Select(c => c.Thumbprint));
        var legacyKey = Assert.Single(await ListKeysAsync(flow))!;
        Assert.Equal(SpKey.IdOf(legacy), legacyKey["id"]!.GetValue<string>());
        Assert.True((await SignInEncryptedToAsync(flow, legacy, "legacy")).ContainsKey("code"));

        await RotateAsync(flow);

        Assert.Equal(legacy.Thumbprint, (await MetadataCertificatesAsync(flow, "signing"))[1].Thumbprint);
        Assert.True((await SignInEncryptedToAsync(flow, legacy, "legacy-after")).ContainsKey("code"));
        var stored = await app.Get<ISecretStore>().GetAsync(secretName, default);
        Assert.StartsWith("{", stored);
    }

    [Fact]
    public async Task Keeps_SP_keys_to_SAML_connections_of_the_route_tenant_and_out_of_responses()
    {
        await using var app = new SsoAppFactory(await AzuriteServer.Shared);
        var flow = await SignInFlow.CreateAsync(app, Jit);
        var other = await SignInFlow.CreateAsync(app, Jit);

        var crossTenant = await flow.Admin.PostAsync($"/api/v1/tenants/{other.TenantId}/connections/{flow.ConnectionId}/sp-keys/rotate", null);
        Assert.Equal(HttpStatusCode.NotFound, crossTenant.StatusCode);
        Assert.Single(await ListKeysAsync(flow));
        Assert.Equal(HttpStatusCode.Unauthorized, (await flow.Browser.GetAsync(KeysPath(flow))).StatusCode);

        var listed = await flow.Admin.GetStringAsync(KeysPath(flow));
        Assert.DoesNotContain("PRIVATE", listed);
        Assert.DoesNotContain("pkcs12", listed, StringComparison.OrdinalIgnoreCase);
        for (var i = 1; i < SamlServiceProviderKeys.MaxKeys; i++) await RotateAsync(flow);
        Assert.Equal(HttpStatusCode.Conflict, (await flow.Admin.PostAsync(KeysPath(flow) + "/rotate", null)).StatusCode);
        Assert.Equal(SamlServiceProviderKeys.MaxKeys, (await ListKeysAsync(flow)).Count);
    }
}
