using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Sso.Protocols.OAuth;

/// <summary>RFC 7636 Proof Key for Code Exchange, S256 only (the plain method is refused).</summary>
public static class Pkce
{
    public const string S256 = "S256";

    /// <summary>§4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".</summary>
    public static bool IsValidVerifier(string? verifier) =>
        verifier is { Length: >= 43 and <= 128 } && verifier.All(IsUnreserved);

    /// <summary>§4.2: an S256 challenge is BASE64URL(SHA256(verifier)) without padding: exactly 43 characters.</summary>
    public static bool IsValidS256Challenge(string? challenge) =>
        challenge is { Length: 43 } && challenge.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static string ChallengeOf(string verifier) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>§4.6: the verifier's S256 transform equals the challenge (compared in constant time).</summary>
    public static bool Verify(string verifier, string challenge) =>
        IsValidVerifier(verifier)
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(ChallengeOf(verifier)), Encoding.ASCII.GetBytes(challenge));

    private static bool IsUnreserved(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~';
}
