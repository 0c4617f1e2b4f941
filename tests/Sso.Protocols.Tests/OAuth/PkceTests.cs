using Sso.Protocols.OAuth;

namespace Sso.Protocols.Tests.OAuth;

public class PkceTests
{
    // BASE64URL(SHA256(verifier)) computed independently (Python hashlib).
    private const string Verifier = "dBjftJeZ4CVP-mJ92K1KB4V5Mxm3Lxh8lRHV7JQd2HI";
    private const string Challenge = "bjyYatsUAuEM1g4bYpRyM4ovfQjyW97zMtnt_EMHx6g";

    [Fact]
    public void Computes_the_S256_challenge_as_base64url_of_the_SHA256() => Assert.Equal(Challenge, Pkce.ChallengeOf(Verifier));

    [Fact]
    public void Verifies_a_matching_verifier() => Assert.True(Pkce.Verify(Verifier, Challenge));

    [Theory]
    [InlineData("wrong verifier of the right length", "dBjftJeZ4CVP-mJ92K1KB4V5Mxm3Lxh8lRHV7JQd2HJ")]
    [InlineData("the challenge itself sent as verifier (plain)", Challenge)]
    [InlineData("too short", "abc")]
    [InlineData("a character outside the unreserved set", "dBjftJeZ4CVP-mJ92K1KB4V5Mxm3Lxh8lRHV7JQd2H+")]
    public void Refuses(string _, string verifier) => Assert.False(Pkce.Verify(verifier, Challenge));

    [Theory]
    [InlineData(Challenge, true)]
    [InlineData("bjyYatsUAuEM1g4bYpRyM4ovfQjyW97zMtnt_EMHx6g=", false)]
    [InlineData("bjyYatsUAuEM1g4bYpRyM4ovfQjyW97zMtnt+EMHx6g", false)]
    [InlineData("short", false)]
    [InlineData("", false)]
    public void Checks_the_shape_of_an_S256_challenge(string challenge, bool valid) =>
        Assert.Equal(valid, Pkce.IsValidS256Challenge(challenge));
}
