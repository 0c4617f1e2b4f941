using System.Text;
using System.Text.Json.Nodes;
using Sso.Protocols.Scim;
using Sso.Protocols.Scim.Patch;

namespace Sso.Protocols.Tests.Scim;

public class ScimPatchEngineTests
{
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    // The user Entra ID creates in its documented provisioning sequence (facts, not text, carried over).
    private static JsonObject EntraUser() => JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "id": "usr_48af03ac28ad4fb88478",
          "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
          "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
          "active": true,
          "emails": [{ "primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com" }],
          "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Sales" },
          "meta": { "resourceType": "User", "version": "W/\"1\"" }
        }
        """)!.AsObject();

    private static JsonObject OktaGroup() => JsonNode.Parse("""
        {
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
          "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
          "displayName": "Test SCIMv2",
          "members": [{ "value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "test.user@okta.local" }],
          "meta": { "resourceType": "Group" }
        }
        """)!.AsObject();

    private static ScimPatchRequest Patch(string operations)
    {
        var body = $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{operations}}}""";
        var parsed = ScimPatchRequest.Parse(Encoding.UTF8.GetBytes(body));
        Assert.True(parsed.IsSuccess, parsed.ToString());
        return parsed.Value;
    }

    private static JsonObject Applied(JsonObject resource, string operations)
    {
        var result = ScimPatchEngine.Apply(resource, Patch(operations));
        Assert.True(result.IsSuccess, result.ToString());
        return result.Value;
    }

    private static string? At(JsonObject resource, string pointer)
    {
        JsonNode? node = resource;
        foreach (var part in pointer.Split('/'))
            node = node is JsonArray array && int.TryParse(part, out var index) ? (index < array.Count ? array[index] : null) : (node as JsonObject)?[part];
        return node?.ToJsonString();
    }

    // operations, JSON pointer into the result, expected JSON at that pointer
    public static TheoryData<string, string, string, string?> UserCases => new()
    {
        { "Entra: replace the work email and the family name (capitalised ops)",
          """[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]""",
          "emails/0/value", "\"updatedEmail@microsoft.com\"" },
        { "Entra: replace userName",
          """[{"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]""",
          "userName", "\"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com\"" },
        { "Entra: disable the user with a boolean",
          """[{"op":"Replace","path":"active","value":false}]""", "active", "false" },
        { "Entra: disable the user with the string \"False\"",
          """[{"op":"Replace","path":"active","value":"False"}]""", "active", "false" },
        { "Entra: path-less add with dotted and URN-prefixed keys",
          """[{"op":"Add","value":{"displayName":"Babs","name.givenName":"Barbara","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"701984"}}]""",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber", "\"701984\"" },
        { "Entra: path-less add of a dotted key keeps the sibling sub-attributes",
          """[{"op":"Add","value":{"name.givenName":"Barbara"}}]""", "name/familyName", "\"familyName\"" },
        { "Entra: manager as a bare id means manager.value",
          """[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"usr_manager1"}]""",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager/value", "\"usr_manager1\"" },
        { "Entra: manager as an object",
          """[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"usr_m2","displayName":"ignored"}}]""",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager", """{"value":"usr_m2"}""" },
        { "Entra: remove the manager",
          """[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]""",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager", null },
        { "Entra: add a work phone where none exists creates the value",
          """[{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"555-0100"}]""",
          "phoneNumbers/0", """{"type":"work","value":"555-0100"}""" },
        { "Entra: URN-prefixed department replace",
          """[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Marketing"}]""",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department", "\"Marketing\"" },
        { "Okta: path-less replace deactivates",
          """[{"op":"replace","value":{"active":false}}]""", "active", "false" },
        { "Okta: path-less replace reactivates",
          """[{"op":"replace","value":{"active":true}}]""", "active", "true" },
        { "Okta: password sync is accepted but never stored",
          """[{"op":"replace","value":{"password":"1mz050nq"}}]""", "password", null },
        { "RFC: add to a multi-valued attribute appends",
          """[{"op":"add","path":"emails","value":[{"value":"babs@jensen.org","type":"home"}]}]""", "emails/1/value", "\"babs@jensen.org\"" },
        { "RFC: add of an existing value does not duplicate it",
          """[{"op":"add","path":"emails","value":[{"value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com","type":"work"}]}]""", "emails/1", null },
        { "RFC: add a new primary email demotes the old one",
          """[{"op":"add","path":"emails","value":{"value":"new@x.com","type":"other","primary":"True"}}]""", "emails/0/primary", "false" },
        { "RFC: replace a multi-valued attribute replaces every value",
          """[{"op":"replace","path":"emails","value":[{"value":"only@x.com","type":"work"}]}]""", "emails", """[{"value":"only@x.com","type":"work"}]""" },
        { "RFC: replace a complex attribute merges sub-attributes",
          """[{"op":"replace","path":"name","value":{"givenName":"Babs"}}]""", "name", """{"formatted":"givenName familyName","familyName":"familyName","givenName":"Babs"}""" },
        { "RFC: remove with a value filter",
          """[{"op":"remove","path":"emails[type eq \"work\"]"}]""", "emails", null },
        { "RFC: remove a sub-attribute of matching values",
          """[{"op":"remove","path":"emails[type eq \"work\"].primary"}]""", "emails/0", """{"type":"work","value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}""" },
        { "RFC: remove of a value that is not there is not an error",
          """[{"op":"remove","path":"emails[type eq \"home\"]"}]""", "emails/0/type", "\"work\"" },
        { "RFC: remove a single-valued attribute",
          """[{"op":"remove","path":"name.formatted"}]""", "name/formatted", null },
        { "RFC: replace with null removes",
          """[{"op":"replace","path":"displayName","value":null}]""", "displayName", null },
        { "attribute names in paths are case-insensitive",
          """[{"op":"replace","path":"NAME.GIVENNAME","value":"B"}]""", "name/givenName", "\"B\"" },
        { "path-less value with an extension object",
          """[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":"4130"}}}]""",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", """{"department":"Sales","costCenter":"4130"}""" },
        { "unknown extension attribute kept under its URN",
          """[{"op":"add","path":"urn:example:params:scim:schemas:extension:acme:2.0:User:acmeRole","value":"admin"}]""",
          "urn:example:params:scim:schemas:extension:acme:2.0:User/acmeRole", "\"admin\"" },
        { "unknown extension is declared in schemas",
          """[{"op":"add","path":"urn:example:params:scim:schemas:extension:acme:2.0:User:acmeRole","value":"admin"}]""",
          "schemas/2", "\"urn:example:params:scim:schemas:extension:acme:2.0:User\"" },
        { "emptied extension leaves schemas",
          """[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]""", "schemas/1", null },
        { "a string number for a string attribute is kept as a string",
          """[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":701984}]""",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber", "\"701984\"" },
    };

    [Theory]
    [MemberData(nameof(UserCases))]
    public void Applies_user_operations_as_IdPs_send_them(string name, string operations, string pointer, string? expected)
    {
        var result = Applied(EntraUser(), operations);

        Assert.True(expected == At(result, pointer), $"{name}: {pointer} is {At(result, pointer) ?? "absent"}");
    }

    public static TheoryData<string, string, int, string> Rejections => new()
    {
        { "replace id", """[{"op":"replace","path":"id","value":"x"}]""", 400, "mutability" },
        { "replace meta.version", """[{"op":"replace","path":"meta.version","value":"x"}]""", 400, "mutability" },
        { "add to the read-only groups", """[{"op":"add","path":"groups","value":[{"value":"grp_1"}]}]""", 400, "mutability" },
        { "path-less change of id", """[{"op":"replace","value":{"id":"other"}}]""", 400, "mutability" },
        { "unknown core attribute", """[{"op":"replace","path":"favouriteColour","value":"x"}]""", 400, "invalidPath" },
        { "unknown sub-attribute", """[{"op":"replace","path":"name.nickname","value":"x"}]""", 400, "invalidPath" },
        { "unknown enterprise attribute", """[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize","value":"x"}]""", 400, "invalidPath" },
        { "sub-attribute of a simple attribute", """[{"op":"replace","path":"userName.value","value":"x"}]""", 400, "invalidPath" },
        { "filter on a single-valued attribute", """[{"op":"replace","path":"name[givenName eq \"x\"]","value":{}}]""", 400, "invalidPath" },
        { "Group schema attribute on a user", """[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:Group:displayName","value":"x"}]""", 400, "invalidPath" },
        { "remove the required userName", """[{"op":"remove","path":"userName"}]""", 400, "invalidValue" },
        { "replace userName with an empty string", """[{"op":"replace","path":"userName","value":""}]""", 400, "invalidValue" },
        { "a non-boolean active", """[{"op":"replace","path":"active","value":"maybe"}]""", 400, "invalidValue" },
        { "an object for a string", """[{"op":"replace","path":"displayName","value":{"a":1}}]""", 400, "invalidValue" },
        { "replace with a filter that matches nothing and is not an equality", """[{"op":"replace","path":"emails[value co \"nothing\"].value","value":"x"}]""", 400, "noTarget" },
        { "a manager id that is not a string", """[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":[1]}}]""", 400, "invalidValue" },
        { "a PATCH that names the manager's read-only displayName", """[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}]""", 400, "mutability" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public void Rejects_an_operation_the_RFC_forbids_and_changes_nothing(string name, string operations, int status, string scimType)
    {
        var user = EntraUser();
        var before = user.ToJsonString();

        var result = ScimPatchEngine.Apply(user, Patch(operations));

        Assert.False(result.IsSuccess, name);
        Assert.Equal((status, scimType), (result.Error.Status, result.Error.ScimType));
        Assert.Equal(before, user.ToJsonString());
    }

    [Fact]
    public void Applies_all_operations_or_none()
    {
        var user = EntraUser();

        var result = ScimPatchEngine.Apply(user, Patch("""[{"op":"replace","path":"displayName","value":"changed"},{"op":"replace","path":"id","value":"x"}]"""));

        Assert.Equal("mutability", result.Error.ScimType);
        Assert.Null(user["displayName"]);
    }

    [Fact]
    public void Ignores_an_unchanged_id_in_an_Okta_group_rename()
    {
        var result = Applied(OktaGroup(), """[{"op":"replace","value":{"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"Test SCIMv2 renamed"}}]""");

        Assert.Equal("Test SCIMv2 renamed", result["displayName"]!.GetValue<string>());
        Assert.Equal("abf4dd94-a4c0-4f67-89c9-76b03340cb9b", result["id"]!.GetValue<string>());
    }

    public static TheoryData<string, string, string[]> MemberCases => new()
    {
        { "Okta: remove one member by value filter, then add another",
          """[{"op":"remove","path":"members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},{"op":"add","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"}]}]""",
          ["23a35c27-23d3-4c03-b4c5-6443c09e7173"] },
        { "Entra: add members with $ref null",
          """[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]""",
          ["89bb1940-b905-4575-9e7f-6f887cfb368e", "f648f8d5ea4e4cd38e9c"] },
        { "Entra: remove members lists the values to remove",
          """[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"89bb1940-b905-4575-9e7f-6f887cfb368e"}]}]""",
          [] },
        { "several members in one add",
          """[{"op":"add","path":"members","value":[{"value":"a"},{"value":"b"},{"value":"c"}]}]""",
          ["89bb1940-b905-4575-9e7f-6f887cfb368e", "a", "b", "c"] },
        { "replace members",
          """[{"op":"replace","path":"members","value":[{"value":"x"},{"value":"y"}]}]""", ["x", "y"] },
        { "remove all members",
          """[{"op":"remove","path":"members"}]""", [] },
        { "remove a member that is not there",
          """[{"op":"remove","path":"members[value eq \"nobody\"]"}]""", ["89bb1940-b905-4575-9e7f-6f887cfb368e"] },
        { "add an existing member again",
          """[{"op":"add","path":"members","value":[{"value":"89bb1940-b905-4575-9e7f-6f887cfb368e"}]}]""", ["89bb1940-b905-4575-9e7f-6f887cfb368e"] },
    };

    [Theory]
    [MemberData(nameof(MemberCases))]
    public void Changes_group_members_as_IdPs_ask(string name, string operations, string[] expected)
    {
        var result = Applied(OktaGroup(), operations);

        var members = (result["members"] as JsonArray)?.Select(m => m!["value"]!.GetValue<string>()).ToArray() ?? [];
        Assert.True(expected.SequenceEqual(members), $"{name}: [{string.Join(", ", members)}]");
    }

    [Theory]
    [InlineData("Replace")]
    [InlineData("Add")]
    [InlineData("replace")]
    public void Applies_an_operation_whose_path_is_the_enterprise_extension_urn_to_that_extension(string op)
    {
        var patched = Applied(EntraUser(), $$$"""[{"op":"{{{op}}}","path":"{{{Enterprise}}}","value":{"department":"Research","employeeNumber":"42"}}]""");

        Assert.Equal("\"Research\"", At(patched, Enterprise + "/department"));
        Assert.Equal("\"42\"", At(patched, Enterprise + "/employeeNumber"));
        var schemas = patched["schemas"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
        Assert.Equal(["urn:ietf:params:scim:schemas:core:2.0:User", Enterprise], schemas);
        Assert.DoesNotContain(patched, p => p.Key == "urn:ietf:params:scim:schemas:extension:enterprise:2.0");
    }

    [Fact]
    public void Adds_the_enterprise_extension_and_declares_it_when_the_user_had_none()
    {
        var user = EntraUser();
        user.Remove(Enterprise);
        user["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User");

        var patched = Applied(user, $$$"""[{"op":"Add","path":"{{{Enterprise}}}","value":{"costCenter":"4130"}}]""");

        Assert.Equal("\"4130\"", At(patched, Enterprise + "/costCenter"));
        Assert.Contains(patched["schemas"]!.AsArray(), s => s!.GetValue<string>() == Enterprise);
        Assert.Equal(2, patched["schemas"]!.AsArray().Count);
    }

    [Fact]
    public void Removes_the_whole_extension_when_the_path_is_its_urn()
    {
        var patched = Applied(EntraUser(), $$"""[{"op":"Remove","path":"{{Enterprise}}"}]""");

        Assert.Null(patched[Enterprise]);
        Assert.DoesNotContain(patched["schemas"]!.AsArray(), s => s!.GetValue<string>() == Enterprise);
    }

    [Theory]
    [InlineData("""[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":"Research"}]""", "invalidValue")]
    [InlineData("""[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"nope":"x"}}]""", "invalidPath")]
    [InlineData("""[{"op":"Remove","path":"urn:ietf:params:scim:schemas:core:2.0:User"}]""", "invalidPath")]
    public void Refuses_a_whole_schema_operation_it_cannot_apply(string operations, string scimType)
    {
        var result = ScimPatchEngine.Apply(EntraUser(), Patch(operations));

        Assert.False(result.IsSuccess);
        Assert.Equal(scimType, result.Error.ScimType);
    }

    [Fact]
    public void Applies_a_replace_whose_path_is_the_core_schema_urn_to_core_attributes()
    {
        var patched = Applied(EntraUser(), """[{"op":"Replace","path":"urn:ietf:params:scim:schemas:core:2.0:User","value":{"displayName":"Babs"}}]""");

        Assert.Equal("\"Babs\"", At(patched, "displayName"));
        Assert.DoesNotContain(patched, p => p.Key.StartsWith("urn:ietf:params:scim:schemas:core:2.0", StringComparison.Ordinal));
    }
}
