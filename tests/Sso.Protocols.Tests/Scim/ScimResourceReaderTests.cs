using System.Text;
using System.Text.Json.Nodes;
using Sso.Protocols.Scim;

namespace Sso.Protocols.Tests.Scim;

public class ScimResourceReaderTests
{
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    // What Okta POSTs to create a user (facts from Okta's SCIM 2.0 reference).
    private const string OktaCreate = """
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",
         "name":{"givenName":"Test","familyName":"User"},
         "emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],
         "displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7",
         "groups":[],"password":"1mz050nq","active":true}
        """;

    // What Entra ID POSTs to create a user (facts from Microsoft's SCIM endpoint guide).
    private const string EntraCreate = """
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
         "externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
         "active":true,"emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
         "meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
         "roles":[]}
        """;

    private static JsonObject ReadUser(string json)
    {
        var read = ScimUserReader.Read(Encoding.UTF8.GetBytes(json));
        Assert.True(read.IsSuccess, read.ToString());
        return read.Value;
    }

    [Fact]
    public void Reads_the_user_Okta_creates_without_its_password_or_groups()
    {
        var user = ReadUser(OktaCreate);

        Assert.Equal("test.user@okta.local", user["userName"]!.GetValue<string>());
        Assert.Equal("00ujl29u0le5T6Aj10h7", user["externalId"]!.GetValue<string>());
        Assert.Equal("en-US", user["locale"]!.GetValue<string>());
        Assert.Null(user["password"]);
        Assert.Null(user["groups"]);
    }

    [Fact]
    public void Reads_the_user_Entra_ID_creates_and_ignores_its_meta()
    {
        var user = ReadUser(EntraCreate);

        Assert.Equal("Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1", user["userName"]!.GetValue<string>());
        Assert.Null(user["meta"]);
        Assert.True(user["emails"]![0]!["primary"]!.GetValue<bool>());
    }

    public static TheoryData<string, string, string, string?> Normalisations => new()
    {
        { "active as the string \"False\"", """{"userName":"a","active":"False"}""", "active", "false" },
        { "active as the string \"true\"", """{"userName":"a","active":"true"}""", "active", "true" },
        { "active defaults to true", """{"userName":"a"}""", "active", "true" },
        { "primary as a string", """{"userName":"a","emails":[{"value":"a@x","primary":"True"}]}""", "emails", """[{"value":"a@x","primary":true}]""" },
        { "attribute names in another case", """{"USERNAME":"a","Name":{"GivenName":"B"}}""", "name", """{"givenName":"B"}""" },
        { "id sent by the client is ignored", """{"userName":"a","id":"chosen-by-client"}""", "id", null },
        { "unknown core attribute is dropped", """{"userName":"a","favouriteColour":"blue"}""", "favouriteColour", null },
        { "schemas default to the core schema", """{"userName":"a"}""", "schemas", """["urn:ietf:params:scim:schemas:core:2.0:User"]""" },
        { "enterprise extension kept", """{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops","manager":"usr_m"}}""",
          Enterprise, """{"department":"Ops","manager":{"value":"usr_m"}}""" },
        { "flat URN-prefixed enterprise attribute", """{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Ops"}""",
          Enterprise, """{"department":"Ops"}""" },
        { "unknown extension declared in schemas is kept as-is",
          """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:planetscale:2.0:User"],"userName":"a","urn:ietf:params:scim:schemas:extension:planetscale:2.0:User":{"planetscale_role":"admin","Nested":{"x":1}}}""",
          "urn:ietf:params:scim:schemas:extension:planetscale:2.0:User", """{"planetscale_role":"admin","Nested":{"x":1}}""" },
        { "a single email object becomes a list", """{"userName":"a","emails":{"value":"a@x"}}""", "emails", """[{"value":"a@x"}]""" },
        { "employeeNumber sent as a number", """{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":42}}""", Enterprise, """{"employeeNumber":"42"}""" },
    };

    [Theory]
    [MemberData(nameof(Normalisations))]
    public void Normalises_what_IdPs_post(string name, string json, string attribute, string? expected)
    {
        var user = ReadUser(json);

        Assert.True(expected == user[attribute]?.ToJsonString(), $"{name}: {user[attribute]?.ToJsonString() ?? "absent"}");
    }

    public static TheoryData<string, string, string> Rejected => new()
    {
        { "not JSON", "{", "invalidSyntax" },
        { "empty body", "", "invalidSyntax" },
        { "a JSON string", "\"user\"", "invalidSyntax" },
        { "no userName", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"name":{"givenName":"a"}}""", "invalidValue" },
        { "empty userName", """{"userName":"  "}""", "invalidValue" },
        { "userName not a string", """{"userName":["a"]}""", "invalidValue" },
        { "active not a boolean", """{"userName":"a","active":"yes"}""", "invalidValue" },
        { "name not an object", """{"userName":"a","name":"Babs"}""", "invalidValue" },
        { "a Group posted to Users", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","userName":"a"}""", "invalidValue" },
        { "schemas not an array", """{"schemas":"urn:ietf:params:scim:schemas:core:2.0:User","userName":"a"}""", "invalidValue" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Rejects_a_user_it_cannot_store(string name, string json, string scimType)
    {
        var read = ScimUserReader.Read(Encoding.UTF8.GetBytes(json));

        Assert.False(read.IsSuccess, name);
        Assert.Equal(400, read.Error.Status);
        Assert.Equal(scimType, read.Error.ScimType);
    }

    [Fact]
    public void Reads_the_groups_Entra_ID_and_Okta_create()
    {
        var entra = ScimGroupReader.Read(Encoding.UTF8.GetBytes("""
            {"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","id":"c4a2d2b2","displayName":"displayName","meta":{"resourceType":"Group"},
             "schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group"]}
            """));
        var okta = ScimGroupReader.Read(Encoding.UTF8.GetBytes("""
            {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}
            """));

        Assert.True(entra.IsSuccess, entra.ToString());
        Assert.Equal("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", entra.Value["externalId"]!.GetValue<string>());
        Assert.Null(entra.Value["id"]);
        Assert.True(okta.IsSuccess, okta.ToString());
        Assert.Equal("[]", okta.Value["members"]!.ToJsonString());
    }

    [Theory]
    [InlineData("no displayName", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"members":[]}""")]
    [InlineData("member without value", """{"displayName":"g","members":[{"display":"x"}]}""")]
    [InlineData("a User posted to Groups", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"displayName":"g"}""")]
    public void Rejects_a_group_it_cannot_store(string name, string json)
    {
        var read = ScimGroupReader.Read(Encoding.UTF8.GetBytes(json));

        Assert.False(read.IsSuccess, name);
        Assert.Equal("invalidValue", read.Error.ScimType);
    }
}

public class ScimJsonTests
{
    [Theory]
    [InlineData("duplicate top-level key", """{"userName":"a","userName":"b"}""")]
    [InlineData("duplicate nested key", """{"userName":"a","name":{"givenName":"x","givenName":"y"}}""")]
    [InlineData("too deep", "{\"a\":" + "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" + "}")]
    public void Rejects_JSON_that_would_be_ambiguous_or_abusive_with_invalidSyntax(string name, string json)
    {
        var read = Sso.Protocols.Scim.ScimUserReader.Read(System.Text.Encoding.UTF8.GetBytes(json));

        Assert.False(read.IsSuccess, name);
        Assert.Equal("invalidSyntax", read.Error.ScimType);
    }
}
