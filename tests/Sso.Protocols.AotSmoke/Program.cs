using System.Xml;
// Run with --bench to also time validations (one thread).
using Sso.Protocols.Saml;
using Sso.Testing;

// Each case runs the same code the ACS runs, in the published Native AOT binary.
var cases = new (string Name, Func<XmlDocument> Build, SamlValidationParameters Parameters, bool Accepted)[]
{
    ("RSA-SHA256 signed assertion", () => SamlTestIdp.SignAssertion(SamlTestIdp.Response()), SamlTestIdp.Parameters(), true),
    ("RSA-SHA512 signed response", () => SamlTestIdp.SignResponse(SamlTestIdp.Response(), signatureMethod: SamlAlgorithms.RsaSha512, digestMethod: SamlAlgorithms.Sha512), SamlTestIdp.Parameters(), true),
    ("ECDSA-SHA256 signed assertion", () => SamlTestIdp.SignAssertion(SamlTestIdp.Response(), SamlTestIdp.EcdsaSigningCertificate, SamlAlgorithms.EcdsaSha256), SamlTestIdp.Parameters(SamlTestIdp.EcdsaSigningCertificate), true),
    ("RSA-SHA1 when allowed", () => SamlTestIdp.SignAssertion(SamlTestIdp.Response(), signatureMethod: SamlAlgorithms.RsaSha1, digestMethod: SamlAlgorithms.Sha1), SamlTestIdp.Parameters() with { AllowSha1 = true }, true),
    ("RSA-SHA1 refused by default", () => SamlTestIdp.SignAssertion(SamlTestIdp.Response(), signatureMethod: SamlAlgorithms.RsaSha1, digestMethod: SamlAlgorithms.Sha1), SamlTestIdp.Parameters(), false),
    ("AES-256-CBC encrypted", () => SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes256Cbc), SamlTestIdp.Parameters(), true),
    ("AES-256-GCM encrypted", () => SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes256Gcm), SamlTestIdp.Parameters(), true),
    ("tampered assertion", () =>
    {
        var document = SamlTestIdp.SignAssertion(SamlTestIdp.Response());
        SamlTestIdp.AssertionElement(document).GetElementsByTagName("NameID", "urn:oasis:names:tc:SAML:2.0:assertion")[0]!.InnerText = "mallory@evil.test";
        return document;
    }, SamlTestIdp.Parameters(), false),
    ("unknown signer", () => SamlTestIdp.SignAssertion(SamlTestIdp.Response(), SamlTestIdp.AttackerCertificate), SamlTestIdp.Parameters(), false),
};

var wrong = 0;
foreach (var (name, build, parameters, accepted) in cases)
{
    string outcome;
    bool ok;
    try
    {
        var result = SamlResponseValidator.Validate(SamlTestIdp.ToBase64(build()), parameters);
        ok = result.IsSuccess == accepted && (!result.IsSuccess || result.Value.NameId == SamlTestIdp.Email);
        outcome = result.IsSuccess ? "accepted" : $"rejected ({result.Error.Kind})";
    }
    catch (Exception e)
    {
        ok = false;
        outcome = $"threw {e.GetType().Name}: {e.Message}";
    }
    if (!ok) wrong++;
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {name}: {outcome}");
}

try
{
    var request = new AuthnRequest
    {
        Id = AuthnRequestWriter.NewId(), IssueInstant = SamlTestIdp.Now, Issuer = SamlTestIdp.SpEntityId,
        Destination = "https://idp.example.test/sso", AssertionConsumerServiceUrl = SamlTestIdp.AcsUrl,
    };
    var redirect = AuthnRequestWriter.WriteRedirectUrl(request, "rs", SamlTestIdp.SigningCertificate);
    var form = AuthnRequestWriter.WritePostForm(request, "rs", SamlTestIdp.SigningCertificate);
    var metadata = SpMetadataWriter.Write(new SpMetadata { EntityId = SamlTestIdp.SpEntityId, AcsUrl = SamlTestIdp.AcsUrl, EncryptionCertificates = [SamlTestIdp.SpEncryptionCertificate] });
    var read = IdpMetadataReader.Read(metadata.Replace("SPSSODescriptor", "IDPSSODescriptor").Replace("AssertionConsumerService", "SingleSignOnService").Replace("use=\"encryption\"", "use=\"signing\""), SamlTestIdp.Now);
    var ok = redirect.Query.Contains("&Signature=") && form.Contains("SAMLRequest") && read.IsSuccess;
    if (!ok) wrong++;
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} AuthnRequest redirect and POST, SP metadata, IdP metadata");
}
catch (Exception e)
{
    wrong++;
    Console.WriteLine($"FAIL writers threw {e.GetType().Name}: {e.Message}");
}

try
{
    // Single Logout: the redirect signature (RSA over the query) and the enveloped POST signature.
    const string slo = "https://sso.example.test/saml/slo/con_test";
    var logout = new LogoutRequest
    {
        Id = AuthnRequestWriter.NewId(), IssueInstant = SamlTestIdp.Now, Issuer = SamlTestIdp.EntityId, Destination = slo,
        NameId = SamlTestIdp.Email, SessionIndexes = ["_s1"],
    };
    var logoutParameters = new SamlLogoutParameters
    {
        IdpCertificates = [SamlTestIdp.PublicOnly(SamlTestIdp.SigningCertificate)], IdpEntityId = SamlTestIdp.EntityId, SloUrl = slo, Now = SamlTestIdp.Now,
    };
    var viaRedirect = SamlLogoutValidator.ValidateRedirectRequest(
        SamlLogoutWriter.WriteRedirectUrl(logout, "rs", SamlTestIdp.SigningCertificate).Query.TrimStart('?'), logoutParameters);
    var html = SamlLogoutWriter.WritePostForm(logout, "rs", SamlTestIdp.SigningCertificate);
    var start = html.IndexOf("value=\"", StringComparison.Ordinal) + 7;
    var viaPost = SamlLogoutValidator.ValidatePostRequest(html[start..html.IndexOf('"', start)], logoutParameters);
    var tampered = SamlLogoutValidator.ValidatePostRequest(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(
        System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(html[start..html.IndexOf('"', start)])).Replace(SamlTestIdp.Email, "m@evil.test"))),
        logoutParameters);

    using var rsa = System.Security.Cryptography.RSA.Create(2048);
    var key = new Microsoft.IdentityModel.Tokens.RsaSecurityKey(rsa) { KeyId = "k" };
    var idToken = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
    {
        Issuer = "https://sso.example.test", Audience = "cli_x", Expires = DateTime.UtcNow.AddDays(-1), IssuedAt = DateTime.UtcNow.AddDays(-2),
        NotBefore = DateTime.UtcNow.AddDays(-2), Claims = new Dictionary<string, object> { ["sub"] = "sub_1", ["sid"] = "ses_1" },
        SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(key, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha256),
    });
    var hint = await Sso.Protocols.OAuth.EndSessionRequestValidator.ValidateHintAsync(idToken, "https://sso.example.test", [key], "cli_x");

    var ok = viaRedirect.IsSuccess && viaPost.IsSuccess && !tampered.IsSuccess && hint.IsSuccess && hint.Value.SessionId == "ses_1";
    if (!ok) wrong++;
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} SAML logout redirect and POST, id_token_hint: {viaRedirect.IsSuccess} {viaPost.IsSuccess} {!tampered.IsSuccess} {hint}");
}
catch (Exception e)
{
    wrong++;
    Console.WriteLine($"FAIL logout threw {e.GetType().Name}: {e.Message}");
}

if (args.Contains("--bench"))
{
    // ACS validation cost per response, the same work the endpoint does (decode, parse, verify, decrypt, rules).
    foreach (var (name, response) in new[]
    {
        ("signed assertion", SamlTestIdp.ToBase64(SamlTestIdp.SignAssertion(SamlTestIdp.Response()))),
        ("signed + encrypted (AES-256-GCM)", SamlTestIdp.ToBase64(SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes256Gcm))),
        ("signed + encrypted (AES-256-CBC)", SamlTestIdp.ToBase64(SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()), TestCipher.Aes256Cbc))),
    })
    {
        var parameters = SamlTestIdp.Parameters();
        for (var i = 0; i < 50; i++) SamlResponseValidator.Validate(response, parameters);
        const int runs = 2000;
        var times = new double[runs];
        var total = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            if (!SamlResponseValidator.Validate(response, parameters).IsSuccess) wrong++;
            times[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        total.Stop();
        Array.Sort(times);
        Console.WriteLine($"bench {name}: {runs / total.Elapsed.TotalSeconds:0} validations/s, p50 {times[runs / 2]:0.000} ms, p99 {times[runs * 99 / 100]:0.000} ms");
    }
}

return wrong;
