using System.Reflection;
using System.Text.RegularExpressions;
using Sso.Functions.OAuth;
using Sso.Functions.Oidc;
using Sso.Functions.OperatorConsole;
using Sso.Testing;

namespace Sso.Functions.Tests.OperatorConsole;

public class RefusalGuidanceTests
{
    /// <summary>Every refusal code the sign-in can emit: the constants of the two classes that declare them.</summary>
    private static IEnumerable<string> EmittableCodes() =>
        new[] { typeof(SignInRefusals), typeof(OidcRefusals) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void Every_refusal_code_the_sign_in_can_emit_has_guidance()
    {
        var codes = EmittableCodes().ToList();
        Assert.True(codes.Count >= 18);
        Assert.All(codes, code => Assert.False(string.IsNullOrWhiteSpace(RefusalGuidance.For(code)), $"no guidance for {code}"));
        Assert.Empty(RefusalGuidance.ByCode.Keys.Except(codes));
    }

    [Fact]
    public void Every_code_with_guidance_is_in_the_README_table_of_refusal_codes()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md"));
        var documented = Regex.Matches(readme, @"^\| `([a-z_]+)` \|", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.All(RefusalGuidance.ByCode.Keys, code => Assert.Contains(code, documented));
    }

    [Fact]
    public void A_code_without_guidance_gets_none()
    {
        Assert.Null(RefusalGuidance.For("invalidFilter"));
        Assert.Null(RefusalGuidance.For(null));
    }
}
