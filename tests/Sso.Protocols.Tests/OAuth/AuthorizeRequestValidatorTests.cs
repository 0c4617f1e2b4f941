using Sso.Protocols.OAuth;

namespace Sso.Protocols.Tests.OAuth;

public class AuthorizeRequestValidatorTests
{
    private const string Client = "cli_1";
    private const string Redirect = "https://app.example.test/cb";
    private const string Challenge = "bjyYatsUAuEM1g4bYpRyM4ovfQjyW97zMtnt_EMHx6g";
    private static readonly string[] Registered = [Redirect];

    private static List<KeyValuePair<string, string>> Valid(params (string Name, string? Value)[] changes)
    {
        var parameters = new List<(string Name, string? Value)>
        {
            ("response_type", "code"), ("client_id", Client), ("redirect_uri", Redirect), ("state", "s1"),
            ("scope", "openid email profile"), ("nonce", "n1"), ("code_challenge", Challenge), ("code_challenge_method", "S256"),
        };
        foreach (var (name, value) in changes)
        {
            parameters.RemoveAll(p => p.Name == name);
            if (value is not null) parameters.Add((name, value));
        }
        return parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value!)).ToList();
    }

    [Theory]
    [InlineData(null, null, false, null)]
    [InlineData("login", null, true, null)]
    [InlineData("consent login", "0", true, 0)]
    [InlineData("select_account", "300", false, 300)]
    public void Reads_the_step_up_demand_from_prompt_and_max_age(string? prompt, string? maxAge, bool forceLogin, int? maxAgeSeconds)
    {
        var result = AuthorizeRequestValidator.Validate(Valid(("prompt", prompt), ("max_age", maxAge)), Registered);
        Assert.True(result.IsSuccess);
        Assert.Equal(new StepUpDemand(forceLogin, maxAgeSeconds), result.Value.StepUp);
    }

    [Fact]
    public void Accepts_a_stock_client_request_and_ignores_unknown_parameters()
    {
        var result = AuthorizeRequestValidator.Validate(Valid(("x-client-SKU", "ID_NET8_0"), ("login_hint", "a@b.test")), Registered);
        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal("openid email profile", result.Value.Scope);
        Assert.Equal("query", result.Value.ResponseMode);
        Assert.Equal("a@b.test", result.Value.LoginHint);
        Assert.Equal("n1", result.Value.Nonce);
    }

    [Fact]
    public void Accepts_a_request_without_PKCE() =>
        Assert.True(AuthorizeRequestValidator.Validate(Valid(("code_challenge", null), ("code_challenge_method", null)), Registered).IsSuccess);

    [Fact]
    public void Drops_scopes_it_does_not_support() =>
        Assert.Equal("openid", AuthorizeRequestValidator.Validate(Valid(("scope", "openid offline_access")), Registered).Value.Scope);

    public static TheoryData<string, (string, string?)[], bool> PageCases => new()
    {
        { "no client_id", [("client_id", null)], true },
        { "unknown client", [], false },
        { "no redirect_uri", [("redirect_uri", null)], true },
        { "a redirect_uri with a trailing slash", [("redirect_uri", Redirect + "/")], true },
        { "a redirect_uri differing in case", [("redirect_uri", "https://APP.example.test/cb")], true },
        { "a redirect_uri with an added query", [("redirect_uri", Redirect + "?a=1")], true },
    };

    [Theory]
    [MemberData(nameof(PageCases))]
    public void Refuses_without_a_redirect_when_the_redirect_uri_cannot_be_trusted(string _, (string, string?)[] changes, bool clientKnown)
    {
        var result = AuthorizeRequestValidator.Validate(Valid(changes), clientKnown ? Registered : null);
        Assert.False(result.IsSuccess);
        Assert.False(result.Error.CanRedirect);
    }

    [Fact]
    public void Refuses_a_repeated_redirect_uri_without_a_redirect()
    {
        var parameters = Valid();
        parameters.Add(new("redirect_uri", Redirect));
        Assert.False(AuthorizeRequestValidator.Validate(parameters, Registered).Error.CanRedirect);
    }

    public static TheoryData<string, (string, string?)[], string> RedirectCases => new()
    {
        { "response_type token", [("response_type", "token")], OAuthErrorCodes.UnsupportedResponseType },
        { "response_type id_token", [("response_type", "id_token")], OAuthErrorCodes.UnsupportedResponseType },
        { "no response_type", [("response_type", null)], OAuthErrorCodes.InvalidRequest },
        { "PKCE plain", [("code_challenge_method", "plain")], OAuthErrorCodes.InvalidRequest },
        { "PKCE without a method (means plain)", [("code_challenge_method", null)], OAuthErrorCodes.InvalidRequest },
        { "a method without a challenge", [("code_challenge", null)], OAuthErrorCodes.InvalidRequest },
        { "a challenge of the wrong shape", [("code_challenge", "abc")], OAuthErrorCodes.InvalidRequest },
        { "an unknown response_mode", [("response_mode", "fragment")], OAuthErrorCodes.InvalidRequest },
        { "prompt=none", [("prompt", "none")], OAuthErrorCodes.LoginRequired },
        { "a negative max_age", [("max_age", "-1")], OAuthErrorCodes.InvalidRequest },
        { "a max_age that is not a number", [("max_age", "1h")], OAuthErrorCodes.InvalidRequest },
        { "a max_age beyond any integer", [("max_age", "99999999999999")], OAuthErrorCodes.InvalidRequest },
        { "an oversized state", [("state", new string('s', 3000))], OAuthErrorCodes.InvalidRequest },
    };

    [Theory]
    [MemberData(nameof(RedirectCases))]
    public void Refuses_with_an_error_redirect_that_carries_the_state(string _, (string, string?)[] changes, string error)
    {
        var result = AuthorizeRequestValidator.Validate(Valid(changes), Registered);
        Assert.False(result.IsSuccess);
        Assert.True(result.Error.CanRedirect);
        Assert.Equal(error, result.Error.Error.Code);
        Assert.Equal(Redirect, result.Error.RedirectUri);
        if (changes.All(c => c.Item1 != "state")) Assert.Equal("s1", result.Error.State);
    }

    [Fact]
    public void Sends_an_error_in_form_post_mode_when_the_client_asked_for_it()
    {
        var result = AuthorizeRequestValidator.Validate(Valid(("response_mode", "form_post"), ("response_type", "token")), Registered);
        Assert.Equal("form_post", result.Error.ResponseMode);
    }
}
