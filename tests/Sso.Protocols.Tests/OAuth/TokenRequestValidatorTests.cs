using System.Text;
using Sso.Protocols.OAuth;

namespace Sso.Protocols.Tests.OAuth;

public class TokenRequestValidatorTests
{
    private const string Redirect = "https://app.example.test/cb";
    private const string Verifier = "dBjftJeZ4CVP-mJ92K1KB4V5Mxm3Lxh8lRHV7JQd2HI";
    private const string Challenge = "bjyYatsUAuEM1g4bYpRyM4ovfQjyW97zMtnt_EMHx6g";
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);

    private static string Basic(string id, string secret) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(id) + ":" + Uri.EscapeDataString(secret)));

    private static List<KeyValuePair<string, string>> Form(params (string Name, string? Value)[] changes)
    {
        var fields = new List<(string Name, string? Value)>
        {
            ("grant_type", "authorization_code"), ("code", "c1"), ("redirect_uri", Redirect), ("code_verifier", Verifier),
        };
        foreach (var (name, value) in changes)
        {
            fields.RemoveAll(f => f.Name == name);
            if (value is not null) fields.Add((name, value));
        }
        return fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value!)).ToList();
    }

    [Fact]
    public void Reads_client_secret_basic_with_form_encoded_credentials()
    {
        var result = TokenRequestValidator.Validate(Form(), Basic("cli_1", "s3cr+t:with colon"));
        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("cli_1", result.Value.ClientId);
        Assert.Equal("s3cr+t:with colon", result.Value.ClientSecret);
        Assert.True(result.Value.UsedBasic);
    }

    [Fact]
    public void Reads_client_secret_post()
    {
        var result = TokenRequestValidator.Validate(Form(("client_id", "cli_1"), ("client_secret", "s")), null);
        Assert.True(result.IsSuccess);
        Assert.False(result.Value.UsedBasic);
    }

    public static TheoryData<string, (string, string?)[], string?, string> Failures => new()
    {
        { "no client authentication", [], null, OAuthErrorCodes.InvalidClient },
        { "a client_id without a secret", [("client_id", "cli_1")], null, OAuthErrorCodes.InvalidClient },
        { "a malformed Basic header", [], "Basic !!!", OAuthErrorCodes.InvalidClient },
        { "another scheme", [], "Bearer abc", OAuthErrorCodes.InvalidClient },
        { "two authentication methods", [("client_secret", "s")], Basic("cli_1", "s"), OAuthErrorCodes.InvalidRequest },
        { "a body client_id differing from Basic", [("client_id", "cli_2")], Basic("cli_1", "s"), OAuthErrorCodes.InvalidRequest },
        { "a password grant", [("grant_type", "password")], Basic("cli_1", "s"), OAuthErrorCodes.UnsupportedGrantType },
        { "a refresh grant", [("grant_type", "refresh_token")], Basic("cli_1", "s"), OAuthErrorCodes.UnsupportedGrantType },
        { "no grant_type", [("grant_type", null)], Basic("cli_1", "s"), OAuthErrorCodes.InvalidRequest },
        { "no code", [("code", null)], Basic("cli_1", "s"), OAuthErrorCodes.InvalidRequest },
        { "no redirect_uri", [("redirect_uri", null)], Basic("cli_1", "s"), OAuthErrorCodes.InvalidRequest },
        { "a malformed code_verifier", [("code_verifier", "short")], Basic("cli_1", "s"), OAuthErrorCodes.InvalidRequest },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Refuses(string _, (string, string?)[] changes, string? authorization, string error)
    {
        var result = TokenRequestValidator.Validate(Form(changes), authorization);
        Assert.False(result.IsSuccess);
        Assert.Equal(error, result.Error.Error.Code);
    }

    [Fact]
    public void Refuses_a_repeated_parameter()
    {
        var form = Form();
        form.Add(new("code", "c2"));
        Assert.Equal(OAuthErrorCodes.InvalidRequest, TokenRequestValidator.Validate(form, Basic("cli_1", "s")).Error.Error.Code);
    }

    private static TokenRequest Request(string? verifier = Verifier, string redirectUri = Redirect) => new()
    {
        ClientId = "cli_1", ClientSecret = "s", UsedBasic = true, Code = "c1", RedirectUri = redirectUri, CodeVerifier = verifier,
    };

    public static TheoryData<string, CodeBinding, TokenRequest, bool> Grants => new()
    {
        { "a matching verifier", new("cli_1", Redirect, Challenge, Now.AddMinutes(1)), Request(), true },
        { "no challenge and no verifier", new("cli_1", Redirect, null, Now.AddMinutes(1)), Request(verifier: null), true },
        { "a challenge but no verifier", new("cli_1", Redirect, Challenge, Now.AddMinutes(1)), Request(verifier: null), false },
        { "a wrong verifier", new("cli_1", Redirect, Challenge, Now.AddMinutes(1)), Request(verifier: new string('a', 43)), false },
        { "a verifier without a challenge", new("cli_1", Redirect, null, Now.AddMinutes(1)), Request(), false },
        { "another client", new("cli_2", Redirect, Challenge, Now.AddMinutes(1)), Request(), false },
        { "another redirect_uri", new("cli_1", Redirect, Challenge, Now.AddMinutes(1)), Request(redirectUri: Redirect + "/"), false },
        { "an expired code", new("cli_1", Redirect, Challenge, Now), Request(), false },
    };

    [Theory]
    [MemberData(nameof(Grants))]
    public void Checks_the_grant(string _, CodeBinding code, TokenRequest request, bool accepted)
    {
        var result = TokenRequestValidator.CheckGrant(code, request, Now);
        Assert.Equal(accepted, result.IsSuccess);
        if (!accepted) Assert.Equal(OAuthErrorCodes.InvalidGrant, result.Error.Code);
    }
}
