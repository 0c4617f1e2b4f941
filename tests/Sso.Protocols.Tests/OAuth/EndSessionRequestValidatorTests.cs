using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sso.Protocols.OAuth;

namespace Sso.Protocols.Tests.OAuth;

public class EndSessionRequestValidatorTests
{
    private const string Issuer = "https://sso.example.test";
    private const string ClientId = "cli_0123456789abcdefghjkmnpqrs";
    private static readonly RsaSecurityKey OurKey = new(RSA.Create(2048)) { KeyId = "k1" };
    private static readonly RsaSecurityKey StrangerKey = new(RSA.Create(2048)) { KeyId = "k1" };

    private static string IdToken(RsaSecurityKey key, string issuer = Issuer, DateTime? expires = null) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = ClientId,
            IssuedAt = (expires ?? DateTime.UtcNow.AddHours(1)).AddHours(-1),
            Expires = expires ?? DateTime.UtcNow.AddHours(1),
            Claims = new Dictionary<string, object> { ["sub"] = "sub_1", ["sid"] = "ses_1", ["tenant"] = "ten_1", ["connection"] = "con_1" },
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });

    private static Task<Result<IdTokenHint, OAuthError>> Validate(string hint, string? clientId = ClientId) =>
        EndSessionRequestValidator.ValidateHintAsync(hint, Issuer, [OurKey], clientId);

    [Fact]
    public async Task Accepts_our_id_token_and_reads_the_session_it_names()
    {
        var hint = await Validate(IdToken(OurKey));

        Assert.True(hint.IsSuccess, hint.ToString());
        Assert.Equal(new IdTokenHint("sub_1", ClientId, "ses_1", "ten_1", "con_1"), hint.Value);
    }

    [Fact]
    public async Task Accepts_an_expired_id_token_as_a_hint()
    {
        var hint = await Validate(IdToken(OurKey, expires: DateTime.UtcNow.AddDays(-2)), clientId: null);

        Assert.True(hint.IsSuccess, hint.ToString());
        Assert.Equal(ClientId, hint.Value.ClientId);
    }

    [Fact]
    public async Task Refuses_a_hint_signed_with_another_key_from_another_issuer_or_for_another_client()
    {
        var forged = await Validate(IdToken(StrangerKey));
        Assert.False(forged.IsSuccess);
        Assert.Contains("signature", forged.Error.Description);

        var foreign = await Validate(IdToken(OurKey, issuer: "https://evil.example.test"));
        Assert.False(foreign.IsSuccess);
        Assert.Contains("not issued by this service", foreign.Error.Description);

        var other = await Validate(IdToken(OurKey), clientId: "cli_zzzzzzzzzzzzzzzzzzzzzzzzzz");
        Assert.False(other.IsSuccess);
        Assert.Contains("another client", other.Error.Description);

        Assert.False((await Validate("not.a.jwt")).IsSuccess);
    }

    [Fact]
    public void Refuses_a_parameter_sent_twice_and_ignores_unknown_ones()
    {
        var twice = EndSessionRequestValidator.Read([new("state", "a"), new("state", "b")]);
        Assert.False(twice.IsSuccess);
        Assert.Equal(OAuthErrorCodes.InvalidRequest, twice.Error.Code);

        var read = EndSessionRequestValidator.Read([new("ui_locales", "de"), new("post_logout_redirect_uri", "https://app/bye"), new("state", "")]);
        Assert.True(read.IsSuccess);
        Assert.Equal(new EndSessionRequest(null, null, "https://app/bye", null), read.Value);
    }
}
