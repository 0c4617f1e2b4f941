using System.Text;
using Sso.Protocols.Saml;

namespace Sso.Protocols.Tests.Saml;

public class SamlResponseReaderTests
{
    private static string Base64(string xml) => Convert.ToBase64String(Encoding.UTF8.GetBytes(xml));

    private const string ResponseStart = """<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0">""";

    public static TheoryData<string, string, SamlFailureKind> Rejections => new()
    {
        { "external entity (XXE)", """<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>""" + ResponseStart + "&x;</samlp:Response>", SamlFailureKind.DtdProhibited },
        { "billion laughs", """<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>""" + ResponseStart + "&d;</samlp:Response>", SamlFailureKind.DtdProhibited },
        { "external DTD", """<!DOCTYPE r SYSTEM "http://attacker.example/evil.dtd">""" + ResponseStart + "</samlp:Response>", SamlFailureKind.DtdProhibited },
        { "not XML", "this is not xml", SamlFailureKind.MalformedXml },
        { "unclosed element", ResponseStart, SamlFailureKind.MalformedXml },
        { "deep nesting", ResponseStart + string.Concat(Enumerable.Repeat("<a>", 200)) + string.Concat(Enumerable.Repeat("</a>", 200)) + "</samlp:Response>", SamlFailureKind.UnexpectedStructure },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public void Rejects_hostile_or_broken_xml(string name, string xml, SamlFailureKind kind)
    {
        var result = SamlResponseReader.Read(Base64(xml));

        Assert.False(result.IsSuccess, name);
        Assert.Equal(kind, result.Error.Kind);
    }

    [Fact]
    public void Rejects_a_DTD_through_the_validator_before_anything_else()
    {
        var xml = """<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>""" + ResponseStart + "&x;</samlp:Response>";
        Assert.Equal(SamlFailureKind.DtdProhibited, SamlResponseValidator.Validate(Base64(xml), SamlTestIdp.Parameters()).Error.Kind);
    }

    [Fact]
    public void Rejects_a_response_larger_than_the_limit()
    {
        var padding = new string(' ', SamlResponseReader.MaxDecodedBytes);
        var result = SamlResponseReader.Read(Base64(ResponseStart + padding + "</samlp:Response>"));

        Assert.Equal(SamlFailureKind.TooLarge, result.Error.Kind);
    }

    [Fact]
    public void Accepts_a_response_just_under_the_limit()
    {
        var xml = ResponseStart + "</samlp:Response>";
        var padding = new string(' ', SamlResponseReader.MaxDecodedBytes - xml.Length);
        Assert.True(SamlResponseReader.Read(Base64(ResponseStart + padding + "</samlp:Response>")).IsSuccess);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("not*base64!")]
    public void Rejects_a_missing_or_undecodable_form_field(string? samlResponse)
    {
        Assert.Equal(SamlFailureKind.MalformedXml, SamlResponseReader.Read(samlResponse).Error.Kind);
    }

    [Fact]
    public void Accepts_base64_wrapped_over_several_lines()
    {
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(ResponseStart + "</samlp:Response>"), Base64FormattingOptions.InsertLineBreaks);
        var wrapped = string.Join("\r\n", encoded.Chunk(20).Select(c => new string(c)));
        Assert.True(SamlResponseReader.Read(wrapped).IsSuccess);
    }

    [Fact]
    public void Keeps_whitespace_because_signatures_cover_it()
    {
        var document = SamlResponseReader.Read(Base64(ResponseStart + "\n  <x> a </x>\n</samlp:Response>")).Value;
        Assert.True(document.PreserveWhitespace);
        Assert.Equal("\n  <x> a </x>\n", document.DocumentElement!.InnerXml.Replace(" xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"", ""));
    }
}
