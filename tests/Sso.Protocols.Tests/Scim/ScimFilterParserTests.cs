using Sso.Protocols.Scim.Filter;

namespace Sso.Protocols.Tests.Scim;

public class ScimFilterParserTests
{
    public static TheoryData<string, string> ValidFilters => new()
    {
        // filter, expected canonical rendering of the AST
        { "userName eq \"bjensen\"", "(userName Eq \"bjensen\")" },
        { "USERNAME EQ \"bjensen\"", "(USERNAME Eq \"bjensen\")" },
        { "name.familyName co \"O'Malley\"", "(name.familyName Co \"O\\u0027Malley\")" },
        { "userName sw \"J\"", "(userName Sw \"J\")" },
        { "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"", "(urn:ietf:params:scim:schemas:core:2.0:User:userName Sw \"J\")" },
        { "title pr", "(title pr)" },
        { "meta.lastModified gt \"2011-05-13T04:42:34Z\"", "(meta.lastModified Gt \"2011-05-13T04:42:34Z\")" },
        { "meta.lastModified ge \"2011-05-13T04:42:34Z\"", "(meta.lastModified Ge \"2011-05-13T04:42:34Z\")" },
        { "meta.lastModified lt \"2011-05-13T04:42:34Z\"", "(meta.lastModified Lt \"2011-05-13T04:42:34Z\")" },
        { "meta.lastModified le \"2011-05-13T04:42:34Z\"", "(meta.lastModified Le \"2011-05-13T04:42:34Z\")" },
        { "title pr and userType eq \"Employee\"", "((title pr) and (userType Eq \"Employee\"))" },
        { "title pr or userType eq \"Intern\"", "((title pr) or (userType Eq \"Intern\"))" },
        { "a eq 1 or b eq 2 and c eq 3", "((a Eq 1) or ((b Eq 2) and (c Eq 3)))" },
        { "(a eq 1 or b eq 2) and c eq 3", "(((a Eq 1) or (b Eq 2)) and (c Eq 3))" },
        { "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"", "(schemas Eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\")" },
        { "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")", "((userType Eq \"Employee\") and ((emails Co \"example.com\") or (emails.value Co \"example.org\")))" },
        { "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")", "((userType Ne \"Employee\") and not(((emails Co \"example.com\") or (emails.value Co \"example.org\"))))" },
        { "userType eq \"Employee\" and (emails.type eq \"work\")", "((userType Eq \"Employee\") and (emails.type Eq \"work\"))" },
        { "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]", "((userType Eq \"Employee\") and emails[((type Eq \"work\") and (value Co \"@example.com\"))])" },
        { "emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]", "(emails[((type Eq \"work\") and (value Co \"@example.com\"))] or ims[((type Eq \"xmpp\") and (value Co \"@foo.com\"))])" },
        { "emails[type eq \"work\"].value eq \"a@b.c\"", "emails[((type Eq \"work\") and (value Eq \"a@b.c\"))]" },
        { "active eq true", "(active Eq true)" },
        { "active eq False", "(active Eq false)" },
        { "title eq null", "(title Eq null)" },
        { "x eq -1.5", "(x Eq -1.5)" },
        { "displayName eq \"Line\\nBreak \\\"quoted\\\" \\u00e9\"", "(displayName Eq \"Line\\nBreak \\u0022quoted\\u0022 \\u00E9\")" },
        { "notes eq \"x\"", "(notes Eq \"x\")" },
        { "not(title pr)", "not((title pr))" },
        { "members[value eq \"2819c223\"]", "members[(value Eq \"2819c223\")]" },
        { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"", "(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value Eq \"26118915\")" },
        { "  userName   eq   \"spaced\"  ", "(userName Eq \"spaced\")" },
        { "members.$ref pr", "(members.$ref pr)" },
    };

    [Theory]
    [MemberData(nameof(ValidFilters))]
    public void Parses_every_form_of_the_RFC_7644_grammar(string filter, string expected)
    {
        var parsed = ScimFilterParser.Parse(filter);

        Assert.True(parsed.IsSuccess, parsed.ToString());
        Assert.Equal(expected, Render(parsed.Value));
    }

    public static TheoryData<string, string> InvalidFilters => new()
    {
        { "empty", "" },
        { "unbalanced bracket", "emails[type eq \"work\"" },
        { "unbalanced parenthesis", "(userName eq \"a\"" },
        { "stray closing parenthesis", "userName eq \"a\")" },
        { "unknown operator", "userName like \"a\"" },
        { "missing value", "userName eq" },
        { "unquoted string", "userName eq bjensen" },
        { "unterminated string", "userName eq \"bjensen" },
        { "bad escape", "userName eq \"a\\q\"" },
        { "missing operator", "userName" },
        { "dangling and", "userName eq \"a\" and" },
        { "nested value path", "emails[type[value eq \"x\"] eq \"y\"]" },
        { "attribute starting with a digit", "1abc eq \"x\"" },
        { "ordering against null", "title gt null" },
        { "single quotes", "userName eq 'a'" },
        { "not without parentheses", "not title pr" },
        { "sub-attribute before bracket", "name.givenName[value eq \"x\"]" },
    };

    [Theory]
    [MemberData(nameof(InvalidFilters))]
    public void Rejects_a_malformed_filter_with_invalidFilter(string name, string filter)
    {
        var parsed = ScimFilterParser.Parse(filter);

        Assert.False(parsed.IsSuccess, name);
        Assert.Equal(400, parsed.Error.Status);
        Assert.Equal("invalidFilter", parsed.Error.ScimType);
    }

    [Fact]
    public void Rejects_a_filter_with_an_unbalanced_bracket()
    {
        var parsed = ScimFilterParser.Parse("members[value eq \"x\"");
        Assert.Contains("']' expected", parsed.Error.Detail);
    }

    [Fact]
    public void Rejects_a_filter_nested_too_deeply_instead_of_overflowing_the_stack()
    {
        var filter = new string('(', 5000) + "a pr" + new string(')', 5000);
        Assert.Equal("invalidFilter", ScimFilterParser.Parse(filter).Error.ScimType);
    }

    internal static string Render(ScimFilter filter) => filter switch
    {
        ScimFilter.Comparison c => $"({c.Path} {c.Operator} {(c.Value is null ? "null" : c.Value.ToJsonString())})",
        ScimFilter.Present p => $"({p.Path} pr)",
        ScimFilter.And a => $"({Render(a.Left)} and {Render(a.Right)})",
        ScimFilter.Or o => $"({Render(o.Left)} or {Render(o.Right)})",
        ScimFilter.Not n => $"not({Render(n.Inner)})",
        ScimFilter.ValuePath v => $"{v.Path}[{Render(v.Inner)}]",
        _ => "?",
    };
}
