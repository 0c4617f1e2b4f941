using System.Text.Json.Nodes;
using Sso.Protocols.Scim;
using Sso.Protocols.Scim.Filter;

namespace Sso.Protocols.Tests.Scim;

public class ScimFilterEvaluatorTests
{
    private static readonly JsonObject Barbara = JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "id": "2819c223-7f76-453a-919d-413861904646",
          "externalId": "Bjensen-Ext",
          "userName": "bjensen@example.com",
          "name": { "familyName": "Jensen", "givenName": "Barbara" },
          "title": "Tour Guide",
          "userType": "Employee",
          "active": true,
          "emails": [
            { "value": "bjensen@example.com", "type": "work", "primary": true },
            { "value": "babs@jensen.org", "type": "home" }
          ],
          "meta": { "resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"a330bc54f0671c9\"" },
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "employeeNumber": "701984", "department": "Tour Operations", "manager": { "value": "26118915" } },
          "urn:example:params:scim:schemas:extension:acme:2.0:User": { "acmeRole": "Admin", "level": 3 }
        }
        """)!.AsObject();

    public static TheoryData<string, string, bool> Cases => new()
    {
        { "userName matches exactly", "userName eq \"bjensen@example.com\"", true },
        { "userName is case-insensitive", "userName eq \"BJensen@Example.COM\"", true },
        { "externalId is case-exact", "externalId eq \"bjensen-ext\"", false },
        { "externalId matches in its own case", "externalId eq \"Bjensen-Ext\"", true },
        { "id is case-exact", "id eq \"2819C223-7F76-453A-919D-413861904646\"", false },
        { "attribute names are case-insensitive", "USERNAME eq \"bjensen@example.com\"", true },
        { "URN-qualified core attribute", "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"bjensen@example.com\"", true },
        { "ne on a different value", "userType ne \"Intern\"", true },
        { "ne on an absent attribute", "nickName ne \"Babs\"", true },
        { "co", "name.familyName co \"ens\"", true },
        { "sw", "userName sw \"BJ\"", true },
        { "ew", "userName ew \"@EXAMPLE.com\"", true },
        { "ew mismatch", "userName ew \"@example.org\"", false },
        { "pr on a set attribute", "title pr", true },
        { "pr on an absent attribute", "nickName pr", false },
        { "eq null on an absent attribute", "nickName eq null", true },
        { "eq null on a set attribute", "title eq null", false },
        { "boolean equality", "active eq true", false == false },
        { "boolean inequality", "active eq false", false },
        { "booleans do not order", "active gt false", false },
        { "dateTime gt compares instants", "meta.lastModified gt \"2011-05-13T00:00:00Z\"", true },
        { "dateTime compares across offsets", "meta.lastModified lt \"2011-05-13T07:00:00+02:00\"", true },
        { "dateTime eq with another offset", "meta.created eq \"2010-01-23T05:56:22+01:00\"", true },
        { "dateTime le", "meta.created le \"2010-01-01T00:00:00Z\"", false },
        { "multi-valued: any value matches", "emails.value eq \"babs@jensen.org\"", true },
        { "multi-valued without sub-attribute compares value", "emails co \"jensen.org\"", true },
        { "multi-valued type", "emails.type eq \"home\"", true },
        { "value path matches one element", "emails[type eq \"work\" and value co \"@example.com\"]", true },
        { "value path needs both on the same element", "emails[type eq \"home\" and value co \"@example.com\"]", false },
        { "value path with trailing sub-attribute", "emails[type eq \"work\"].value eq \"bjensen@example.com\"", true },
        { "value path primary boolean", "emails[primary eq true].value sw \"bjensen\"", true },
        { "and", "title pr and userType eq \"Employee\"", true },
        { "and with one false", "title pr and userType eq \"Intern\"", false },
        { "or", "userType eq \"Intern\" or title pr", true },
        { "not", "not (userType eq \"Intern\")", true },
        { "precedence: and binds tighter than or", "userType eq \"Intern\" or title pr and active eq false", false },
        { "parentheses override precedence", "(userType eq \"Intern\" or title pr) and active eq true", true },
        { "enterprise extension attribute", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"tour operations\"", true },
        { "enterprise manager sub-attribute", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"", true },
        { "unknown extension attribute", "urn:example:params:scim:schemas:extension:acme:2.0:User:acmeRole eq \"admin\"", true },
        { "number comparison", "urn:example:params:scim:schemas:extension:acme:2.0:User:level ge 3", true },
        { "number vs string does not match", "urn:example:params:scim:schemas:extension:acme:2.0:User:level eq \"3\"", false },
        { "unknown attribute matches nothing", "nosuch eq \"x\"", false },
        { "string ordering", "userName gt \"a\"", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluates_a_filter_against_a_user(string name, string filter, bool expected)
    {
        var parsed = ScimFilterParser.Parse(filter);
        Assert.True(parsed.IsSuccess, $"{name}: {parsed}");

        Assert.Equal(expected, ScimFilterEvaluator.Matches(parsed.Value, Barbara));
    }

    [Fact]
    public void Compares_group_member_values_case_exactly()
    {
        var group = JsonNode.Parse("""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Admins","members":[{"value":"usr_ABC"}]}""")!.AsObject();

        Assert.True(ScimFilterEvaluator.Matches(ScimFilterParser.Parse("members[value eq \"usr_ABC\"]").Value, group));
        Assert.False(ScimFilterEvaluator.Matches(ScimFilterParser.Parse("members[value eq \"usr_abc\"]").Value, group));
        Assert.True(ScimFilterEvaluator.Matches(ScimFilterParser.Parse("displayName eq \"admins\"").Value, group));
    }

    public static TheoryData<string, string, string?, string?> PointLookups => new()
    {
        { "Okta's and Entra's userName lookup", "userName eq \"test.user@okta.local\"", "userName", "test.user@okta.local" },
        { "attribute in another case", "USERNAME eq \"x\"", "userName", "x" },
        { "externalId", "externalId eq \"00ujl29u0le5T6Aj10h7\"", "externalId", "00ujl29u0le5T6Aj10h7" },
        { "id", "id eq \"usr_1\"", "id", "usr_1" },
        { "displayName", "displayName eq \"Test SCIMv2\"", "displayName", "Test SCIMv2" },
        { "lookup inside a conjunction", "userName eq \"x\" and active eq true", "userName", "x" },
        { "URN-qualified", "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x\"", "userName", "x" },
        { "not an equality", "userName sw \"x\"", null, null },
        { "a disjunction scans", "userName eq \"x\" or userName eq \"y\"", null, null },
        { "a negation scans", "not (userName eq \"x\")", null, null },
        { "a non-string value", "id eq 1", null, null },
        { "a non-indexed attribute", "title eq \"x\"", null, null },
    };

    [Theory]
    [MemberData(nameof(PointLookups))]
    public void Recognises_point_lookups_the_store_answers_from_index_rows(string name, string filter, string? attribute, string? value)
    {
        var lookup = ScimPointLookup.Find(ScimFilterParser.Parse(filter).Value, ScimSchemas.UserResource);

        Assert.True(attribute == lookup?.AttributeName, name);
        Assert.Equal(value, lookup?.Value);
    }
}
