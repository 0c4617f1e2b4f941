using System.Text;
using System.Text.Json.Nodes;
using Sso.Protocols.Oidc;

namespace Sso.Protocols.Tests.Oidc;

public class OidcEmailVerificationTests
{
    private static readonly TestOp Op = new();

    private static async Task<ValidatedIdToken> TokenAsync(Action<JsonObject> edit)
    {
        var claims = TestOp.Claims();
        edit(claims);
        return (await IdTokenValidator.ValidateAsync(Op.Sign(claims), Op.Jwks, TestOp.Expectations(), TestOp.Now)).Value;
    }

    public static TheoryData<string, Action<JsonObject>> Unverified => new()
    {
        { "email_verified false (self-registered address)", c => c["email_verified"] = false },
        { "email_verified absent", c => c.Remove("email_verified") },
        { "email_verified \"false\" as a string", c => c["email_verified"] = "false" },
        { "email_verified a number", c => c["email_verified"] = 1 },
    };

    [Theory]
    [MemberData(nameof(Unverified))]
    public async Task Refuses_an_email_the_IdP_does_not_vouch_for(string name, Action<JsonObject> edit)
    {
        var failure = OidcEmailVerification.Check(await TokenAsync(edit), allowUnverifiedEmail: false);
        Assert.True(failure is { Kind: OidcFailureKind.EmailNotVerified }, name);
        Assert.DoesNotContain("jane@example.com", failure!.Message);
    }

    [Theory]
    [MemberData(nameof(Unverified))]
    public async Task Accepts_an_unverified_email_when_the_connection_allows_it(string name, Action<JsonObject> edit)
    {
        Assert.True(OidcEmailVerification.Check(await TokenAsync(edit), allowUnverifiedEmail: true) is null, name);
    }

    [Theory]
    [InlineData(true)]
    [InlineData("true")]
    [InlineData("True")]
    public async Task Accepts_a_verified_email(object verified)
    {
        var token = await TokenAsync(c => c["email_verified"] = verified is bool b ? JsonValue.Create(b) : JsonValue.Create((string)verified));
        Assert.Null(OidcEmailVerification.Check(token, allowUnverifiedEmail: false));
    }

    [Fact]
    public async Task Leaves_a_missing_email_to_the_sign_in_policy()
    {
        Assert.Null(OidcEmailVerification.Check(await TokenAsync(c => { c.Remove("email"); c.Remove("email_verified"); }), false));
    }

    [Fact]
    public async Task UserInfo_email_verified_does_not_vouch_for_the_id_tokens_email()
    {
        var token = await TokenAsync(c => c.Remove("email_verified"));
        var userInfo = OidcUserInfoReader.Read(Encoding.UTF8.GetBytes(
            """{"sub":"248289761001","email":"other@example.com","email_verified":true}"""), token.Subject).Value;

        var merged = OidcUserInfoReader.Merge(token, userInfo);

        Assert.Equal("jane@example.com", merged.Email);
        Assert.False(merged.EmailVerified);
        Assert.Equal(OidcFailureKind.EmailNotVerified, OidcEmailVerification.Check(merged, false)?.Kind);
    }

    [Fact]
    public async Task An_id_tokens_email_verified_does_not_vouch_for_a_UserInfo_email()
    {
        var token = await TokenAsync(c => c.Remove("email"));
        var userInfo = OidcUserInfoReader.Read(Encoding.UTF8.GetBytes(
            """{"sub":"248289761001","email":"other@example.com"}"""), token.Subject).Value;

        var merged = OidcUserInfoReader.Merge(token, userInfo);

        Assert.Equal("other@example.com", merged.Email);
        Assert.False(merged.EmailVerified);
    }
}
