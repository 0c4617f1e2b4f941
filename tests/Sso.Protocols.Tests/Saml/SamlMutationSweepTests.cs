using System.Xml;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

/// <summary>
/// Beyond the named attacks: every element of a signed response removed, duplicated, or moved
/// into its neighbour, and every attribute changed. None may throw, and anything accepted must
/// still name the signed identity.
/// </summary>
public class SamlMutationSweepTests
{
    public static TheoryData<string> Shapes => ["assertion signed", "response signed", "both signed", "encrypted and signed"];

    private static XmlDocument Signed(string shape) => shape switch
    {
        "assertion signed" => SamlTestIdp.SignAssertion(SamlTestIdp.Response()),
        "response signed" => SamlTestIdp.SignResponse(SamlTestIdp.Response()),
        "both signed" => SamlTestIdp.SignResponse(SamlTestIdp.SignAssertion(SamlTestIdp.Response())),
        _ => SamlTestIdp.SignResponse(SamlTestIdp.EncryptAssertion(SamlTestIdp.SignAssertion(SamlTestIdp.Response()))),
    };

    private static IEnumerable<(string What, Action<XmlDocument> Mutate)> Mutations(XmlDocument original)
    {
        var count = original.GetElementsByTagName("*").Count;
        for (var i = 1; i < count; i++)
        {
            var index = i;
            XmlElement At(XmlDocument d) => (XmlElement)d.GetElementsByTagName("*")[index]!;
            yield return ($"remove element {index}", d => { var e = At(d); e.ParentNode!.RemoveChild(e); });
            yield return ($"duplicate element {index}", d => { var e = At(d); e.ParentNode!.InsertAfter(e.CloneNode(true), e); });
            yield return ($"move element {index} into its previous sibling", d =>
            {
                var e = At(d);
                if (e.PreviousSibling is XmlElement previous) { e.ParentNode!.RemoveChild(e); previous.AppendChild(e); }
            });
            var attributes = At(original).Attributes.Count;
            for (var a = 0; a < attributes; a++)
            {
                var attribute = a;
                yield return ($"change attribute {attribute} of element {index}", d => At(d).Attributes[attribute].Value += "x");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Never_throws_and_never_accepts_another_identity(string shape)
    {
        var original = Signed(shape);
        var parameters = SamlTestIdp.Parameters() with { ClockSkew = TimeSpan.FromMinutes(3) };
        var accepted = 0;
        foreach (var (what, mutate) in Mutations(original))
        {
            var document = SamlTestIdp.Reparse(original);
            mutate(document);
            Result<SamlAssertion, SamlFailure> result = default;
            var thrown = Record.Exception(() => result = SamlResponseValidator.Validate(SamlTestIdp.ToBase64(document), parameters));

            Assert.True(thrown is null, $"{shape}, {what}: threw {thrown}");
            if (!result.IsSuccess) continue;
            accepted++;
            Assert.True(result.Value.NameId == SamlTestIdp.Email && result.Value.Id == SamlTestIdp.AssertionId, $"{shape}, {what}: accepted {result.Value}");
        }
        // Some mutations are harmless (an element outside every signature, e.g. the Response
        // Issuer when only the assertion is signed); most are not.
        Assert.True(accepted < Mutations(original).Count() / 4, $"{accepted} mutations accepted");
    }
}
