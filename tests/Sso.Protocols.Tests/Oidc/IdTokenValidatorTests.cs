using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using Sso.Protocols.Oidc;

namespace Sso.Protocols.Tests.Oidc;

public class IdTokenValidatorTests
{
    private static readonly TestOp Op = new();

    private static Task<Result<ValidatedIdToken, OidcFailure>> Validate(string token, IdTokenExpectations? expected = null,
        IReadOnlyList<JsonWebKey>? keys = null, DateTimeOffset? now = null) =>
        IdTokenValidator.ValidateAsync(token, keys ?? Op.Jwks, expected ?? TestOp.Expectations(), now ?? TestOp.Now);

    [Fact]
    public async Task Accepts_a_well_formed_RS256_token_and_reads_its_claims()
    {
        var result = await Validate(Op.Sign(TestOp.Claims()));

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("248289761001", result.Value.Subject);
        Assert.Equal(TestOp.Issuer, result.Value.Issuer);
        Assert.Equal("jane@example.com", result.Value.Email);
        Assert.True(result.Value.EmailVerified);
        Assert.Equal("Jane Doe", result.Value.Name);
        Assert.False(result.Value.GroupsOverage);
    }

    [Theory]
    [InlineData(SecurityAlgorithms.RsaSha384)]
    [InlineData(SecurityAlgorithms.RsaSsaPssSha256)]
    public async Task Accepts_other_RSA_algorithms(string algorithm)
    {
        var result = await Validate(Op.Sign(TestOp.Claims(), algorithm));
        Assert.True(result.IsSuccess, result.ToString());
    }

    [Fact]
    public async Task Accepts_an_ES256_token_against_an_EC_key()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = new ECDsaSecurityKey(ec) { KeyId = "ec-1" };
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ec.ExportParameters(false))) { KeyId = "ec-1" });

        var result = await Validate(Op.Sign(TestOp.Claims(), SecurityAlgorithms.EcdsaSha256, key), keys: [jwk]);
        Assert.True(result.IsSuccess, result.ToString());
    }

    public static TheoryData<string, Action<JsonObject>, OidcFailureKind> ClaimCases => new()
    {
        { "another issuer", c => c["iss"] = "https://evil.example.com", OidcFailureKind.IssuerMismatch },
        { "no issuer", c => c.Remove("iss"), OidcFailureKind.IssuerMismatch },
        { "issuer with a trailing slash", c => c["iss"] = TestOp.Issuer + "/", OidcFailureKind.IssuerMismatch },
        { "another audience", c => c["aud"] = "someone-else", OidcFailureKind.AudienceMismatch },
        { "no audience", c => c.Remove("aud"), OidcFailureKind.AudienceMismatch },
        { "several audiences without azp", c => c["aud"] = new JsonArray(TestOp.ClientId, "other"), OidcFailureKind.AuthorizedPartyMismatch },
        { "several audiences, azp another client", c => { c["aud"] = new JsonArray(TestOp.ClientId, "other"); c["azp"] = "other"; }, OidcFailureKind.AuthorizedPartyMismatch },
        { "one audience, azp another client", c => c["azp"] = "other", OidcFailureKind.AuthorizedPartyMismatch },
        { "expired beyond the skew", c => c["exp"] = TestOp.Now.AddMinutes(-3).ToUnixTimeSeconds(), OidcFailureKind.Expired },
        { "no exp", c => c.Remove("exp"), OidcFailureKind.IdTokenMalformed },
        { "exp as a string", c => c["exp"] = "1893456000", OidcFailureKind.IdTokenMalformed },
        { "nbf beyond the skew", c => c["nbf"] = TestOp.Now.AddMinutes(3).AddSeconds(1).ToUnixTimeSeconds(), OidcFailureKind.NotYetValid },
        { "iat beyond the skew", c => c["iat"] = TestOp.Now.AddMinutes(3).AddSeconds(1).ToUnixTimeSeconds(), OidcFailureKind.IssuedInFuture },
        { "no iat", c => c.Remove("iat"), OidcFailureKind.IdTokenMalformed },
        { "another nonce", c => c["nonce"] = "replayed-nonce", OidcFailureKind.NonceMismatch },
        { "no nonce", c => c.Remove("nonce"), OidcFailureKind.NonceMismatch },
        { "no sub", c => c.Remove("sub"), OidcFailureKind.SubjectMissing },
        { "a sub longer than 255", c => c["sub"] = new string('s', 256), OidcFailureKind.SubjectMissing },
    };

    [Theory]
    [MemberData(nameof(ClaimCases))]
    public async Task Rejects_a_token_whose_claims_break_a_rule(string _, Action<JsonObject> edit, OidcFailureKind kind)
    {
        var claims = TestOp.Claims();
        edit(claims);
        var result = await Validate(Op.Sign(claims));
        Assert.False(result.IsSuccess);
        Assert.Equal(kind, result.Error.Kind);
    }

    public static TheoryData<string, Action<JsonObject>> AcceptedClaimCases => new()
    {
        { "expired, but within the skew", c => c["exp"] = TestOp.Now.AddMinutes(-2).ToUnixTimeSeconds() },
        { "nbf within the skew", c => c["nbf"] = TestOp.Now.AddMinutes(2).ToUnixTimeSeconds() },
        { "iat within the skew", c => c["iat"] = TestOp.Now.AddMinutes(2).ToUnixTimeSeconds() },
        { "several audiences with azp us", c => { c["aud"] = new JsonArray(TestOp.ClientId, "other"); c["azp"] = TestOp.ClientId; } },
        { "one audience in an array", c => c["aud"] = new JsonArray(TestOp.ClientId) },
        { "fractional times", c => c["exp"] = TestOp.Now.AddMinutes(5).ToUnixTimeSeconds() + 0.5 },
        { "email_verified as a string (older Okta orgs)", c => c["email_verified"] = "true" },
    };

    [Theory]
    [MemberData(nameof(AcceptedClaimCases))]
    public async Task Accepts_a_token_at_the_edge_of_a_rule(string _, Action<JsonObject> edit)
    {
        var claims = TestOp.Claims();
        edit(claims);
        var result = await Validate(Op.Sign(claims));
        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(result.Value.EmailVerified);
    }

    [Fact]
    public async Task Rejects_alg_none()
    {
        var token = TestOp.Craft(new JsonObject { ["alg"] = "none", ["typ"] = "JWT" }, TestOp.Claims(), _ => []);
        var result = await Validate(token);
        Assert.Equal(OidcFailureKind.AlgorithmNotAllowed, result.Error.Kind);
        Assert.Equal("none", result.Error.Actual);
    }

    [Fact]
    public async Task Rejects_HS256_signed_with_the_public_key_as_the_secret()
    {
        // The classic key-confusion attack: the verifier is fooled into using the RSA public key as an HMAC secret.
        var publicKeyBytes = Encoding.UTF8.GetBytes(Op.Rsa.ExportSubjectPublicKeyInfoPem());
        var token = TestOp.Craft(new JsonObject { ["alg"] = "HS256", ["kid"] = "key-1" }, TestOp.Claims(),
            input => HMACSHA256.HashData(publicKeyBytes, input));
        var result = await Validate(token);
        Assert.Equal(OidcFailureKind.AlgorithmNotAllowed, result.Error.Kind);
    }

    [Fact]
    public async Task Rejects_HS256_even_when_the_JWKS_publishes_a_symmetric_key()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var oct = JsonWebKeyConverter.ConvertFromSymmetricSecurityKey(new SymmetricSecurityKey(secret) { KeyId = "oct" });
        var token = Op.Sign(TestOp.Claims(), SecurityAlgorithms.HmacSha256, new SymmetricSecurityKey(secret) { KeyId = "oct" });
        var result = await Validate(token, keys: [.. Op.Jwks, oct]);
        Assert.Equal(OidcFailureKind.AlgorithmNotAllowed, result.Error.Kind);
    }

    [Fact]
    public async Task Reports_an_unknown_kid_so_the_caller_can_refresh_the_JWKS()
    {
        var other = new TestOp("rotated-key");
        var result = await Validate(other.Sign(TestOp.Claims()));
        Assert.Equal(OidcFailureKind.UnknownSigningKey, result.Error.Kind);
        Assert.Equal("rotated-key", result.Error.Actual);
    }

    [Fact]
    public async Task Rejects_a_token_signed_by_another_key_under_a_published_kid()
    {
        var impostor = new TestOp("key-1");
        var result = await Validate(impostor.Sign(TestOp.Claims()));
        Assert.Equal(OidcFailureKind.SignatureInvalid, result.Error.Kind);
    }

    [Fact]
    public async Task Rejects_a_token_whose_payload_was_changed_after_signing()
    {
        var token = Op.Sign(TestOp.Claims());
        var parts = token.Split('.');
        var claims = TestOp.Claims();
        claims["email"] = "ceo@example.com";
        var tampered = parts[0] + "." + TestOp.B64(Encoding.UTF8.GetBytes(claims.ToJsonString())) + "." + parts[2];
        var result = await Validate(tampered);
        Assert.Equal(OidcFailureKind.SignatureInvalid, result.Error.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-jwt")]
    [InlineData("a.b")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.!!!.sig")]
    public async Task Rejects_garbage_as_malformed(string token)
    {
        var result = await Validate(token);
        Assert.False(result.IsSuccess);
        Assert.Contains(result.Error.Kind, new[] { OidcFailureKind.IdTokenMalformed, OidcFailureKind.SignatureInvalid });
    }

    [Fact]
    public async Task Rejects_a_signed_token_that_repeats_a_claim()
    {
        // Parsers disagree on which of two 'aud' members wins; a signed token that has both is refused.
        var json = TestOp.Claims().ToJsonString().TrimEnd('}') + ",\"aud\":\"someone-else\"}";
        var signingInput = TestOp.B64(Encoding.UTF8.GetBytes("""{"alg":"RS256","kid":"key-1","typ":"JWT"}""")) + "." + TestOp.B64(Encoding.UTF8.GetBytes(json));
        var signature = Op.Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var result = await Validate(signingInput + "." + TestOp.B64(signature));
        Assert.Equal(OidcFailureKind.IdTokenMalformed, result.Error.Kind);
    }

    [Fact]
    public async Task Rejects_a_token_when_the_JWKS_is_empty()
    {
        var result = await Validate(Op.Sign(TestOp.Claims()), keys: []);
        Assert.Equal(OidcFailureKind.UnknownSigningKey, result.Error.Kind);
    }

    private const string EntraTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0";
    private const string CustomerTid = "9188040d-6c67-4c5b-b112-36a304b66dad";

    private static IdTokenExpectations Entra() =>
        TestOp.Expectations() with { Issuer = EntraTemplate, AllowedEntraTenantIds = [CustomerTid] };

    private static JsonObject EntraClaims(string tid)
    {
        var claims = TestOp.Claims();
        claims["iss"] = $"https://login.microsoftonline.com/{tid}/v2.0";
        claims["tid"] = tid;
        return claims;
    }

    [Fact]
    public async Task Accepts_an_Entra_multi_tenant_token_from_an_admitted_tenant()
    {
        var result = await Validate(Op.Sign(EntraClaims(CustomerTid)), Entra());
        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(CustomerTid, result.Value.EntraTenantId);
        Assert.Equal($"https://login.microsoftonline.com/{CustomerTid}/v2.0", result.Value.Issuer);
    }

    public static TheoryData<string, Action<JsonObject>, OidcFailureKind> EntraCases => new()
    {
        { "another Entra tenant", c => { c["tid"] = "00000000-0000-0000-0000-000000000001"; c["iss"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0"; }, OidcFailureKind.EntraTenantNotAllowed },
        { "iss naming another tenant than tid", c => c["iss"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0", OidcFailureKind.IssuerMismatch },
        { "no tid", c => c.Remove("tid"), OidcFailureKind.IssuerMismatch },
        { "tid not a GUID", c => { c["tid"] = "evil/../x"; c["iss"] = "https://login.microsoftonline.com/evil/../x/v2.0"; }, OidcFailureKind.IssuerMismatch },
        { "the template itself as iss", c => c["iss"] = EntraTemplate, OidcFailureKind.IssuerMismatch },
    };

    [Theory]
    [MemberData(nameof(EntraCases))]
    public async Task Rejects_an_Entra_multi_tenant_token_that_breaks_a_rule(string _, Action<JsonObject> edit, OidcFailureKind kind)
    {
        var claims = EntraClaims(CustomerTid);
        edit(claims);
        var result = await Validate(Op.Sign(claims), Entra());
        Assert.Equal(kind, result.Error.Kind);
    }

    [Fact]
    public async Task Rejects_every_Entra_tenant_when_the_connection_admits_none()
    {
        var result = await Validate(Op.Sign(EntraClaims(CustomerTid)), Entra() with { AllowedEntraTenantIds = [] });
        Assert.Equal(OidcFailureKind.EntraTenantNotAllowed, result.Error.Kind);
    }

    [Theory]
    [InlineData(CustomerTid, true)]
    [InlineData("00000000-0000-0000-0000-000000000001", false)]
    [InlineData(null, false)]
    public async Task Checks_tid_against_a_single_tenant_Entra_issuer(string? tid, bool accepted)
    {
        var issuer = $"https://login.microsoftonline.com/{CustomerTid}/v2.0";
        var claims = TestOp.Claims();
        claims["iss"] = issuer;
        if (tid is null) claims.Remove("tid");
        else claims["tid"] = tid;

        var result = await Validate(Op.Sign(claims), TestOp.Expectations() with { Issuer = issuer, AllowedEntraTenantIds = [CustomerTid] });

        Assert.Equal(accepted, result.IsSuccess);
        if (!accepted) Assert.Equal(OidcFailureKind.EntraTenantNotAllowed, result.Error.Kind);
    }

    [Fact]
    public async Task Ignores_tid_when_the_issuer_is_not_Entra_and_no_tenant_is_expected()
    {
        var claims = TestOp.Claims();
        claims["tid"] = "00000000-0000-0000-0000-000000000001";
        Assert.True((await Validate(Op.Sign(claims))).IsSuccess);
    }

    [Fact]
    public async Task Reads_the_Entra_groups_claim()
    {
        var claims = TestOp.Claims();
        claims["groups"] = new JsonArray("a5c0ffee-0000-0000-0000-000000000001", "a5c0ffee-0000-0000-0000-000000000002");
        var result = await Validate(Op.Sign(claims));
        Assert.Equal(2, result.Value.Groups.Count);
        Assert.False(result.Value.GroupsOverage);
    }

    public static TheoryData<string, Action<JsonObject>> OverageCases => new()
    {
        { "_claim_names.groups (code flow)", c => { c["_claim_names"] = new JsonObject { ["groups"] = "src1" }; c["_claim_sources"] = new JsonObject { ["src1"] = new JsonObject { ["endpoint"] = "https://graph.microsoft.com/v1.0/users/x/getMemberObjects" } }; } },
        { "hasgroups (implicit flow)", c => c["hasgroups"] = true },
    };

    [Theory]
    [MemberData(nameof(OverageCases))]
    public async Task Records_an_Entra_groups_overage_instead_of_an_empty_group_list(string _, Action<JsonObject> edit)
    {
        var claims = TestOp.Claims();
        edit(claims);
        var result = await Validate(Op.Sign(claims));
        Assert.True(result.IsSuccess, result.ToString());
        Assert.True(result.Value.GroupsOverage);
        Assert.Empty(result.Value.Groups);
    }

    [Theory]
    [InlineData("example.com", true)]
    [InlineData("EXAMPLE.com", true)]
    [InlineData("other.com", false)]
    [InlineData(null, false)]
    public async Task Checks_Google_hd_against_the_tenant_domains(string? hd, bool accepted)
    {
        var claims = TestOp.Claims();
        if (hd is not null) claims["hd"] = hd;
        var result = await Validate(Op.Sign(claims), TestOp.Expectations() with { RequiredHostedDomains = ["example.com", "example.org"] });
        Assert.Equal(accepted, result.IsSuccess);
        if (!accepted) Assert.Equal(OidcFailureKind.HostedDomainNotAllowed, result.Error.Kind);
    }

    [Fact]
    public async Task Never_puts_the_token_or_the_email_in_a_failure()
    {
        var claims = TestOp.Claims();
        claims["aud"] = "other";
        var token = Op.Sign(claims);
        var result = await Validate(token);
        Assert.DoesNotContain("jane@example.com", result.Error.ToString());
        Assert.DoesNotContain(token, result.Error.ToString() + result.Error.Actual + result.Error.Expected);
    }
}
