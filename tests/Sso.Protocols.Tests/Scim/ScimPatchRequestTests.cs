using System.Text;
using Sso.Protocols.Scim.Patch;

namespace Sso.Protocols.Tests.Scim;

public class ScimPatchRequestTests
{
    private static string Body(string operations) =>
        $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{operations}}}""";

    public static TheoryData<string, string, ScimPatchOperationType, string?> Accepted => new()
    {
        { "Entra's capitalised Replace", Body("""[{"op":"Replace","path":"active","value":"False"}]"""), ScimPatchOperationType.Replace, "active" },
        { "capitalised Add", Body("""[{"op":"Add","path":"members","value":[{"value":"a"}]}]"""), ScimPatchOperationType.Add, "members" },
        { "capitalised Remove", Body("""[{"op":"Remove","path":"members[value eq \"a\"]"}]"""), ScimPatchOperationType.Remove, "members[…]" },
        { "upper-case op", Body("""[{"op":"REPLACE","value":{"active":true}}]"""), ScimPatchOperationType.Replace, null },
        { "lower-case operations key", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"operations":[{"op":"add","value":{"title":"x"}}]}""", ScimPatchOperationType.Add, null },
        { "empty path means path-less", Body("""[{"op":"replace","path":"","value":{"active":true}}]"""), ScimPatchOperationType.Replace, null },
        { "value path with a sub-attribute", Body("""[{"op":"replace","path":"emails[type eq \"work\"].value","value":"x"}]"""), ScimPatchOperationType.Replace, "emails[…].value" },
        { "URN path", Body("""[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m"}]"""), ScimPatchOperationType.Add, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Parses_operations_in_the_forms_IdPs_send(string name, string body, ScimPatchOperationType type, string? path)
    {
        var parsed = ScimPatchRequest.Parse(Encoding.UTF8.GetBytes(body));

        Assert.True(parsed.IsSuccess, $"{name}: {parsed}");
        Assert.Equal(type, parsed.Value.Operations[0].Type);
        Assert.Equal(path, parsed.Value.Operations[0].Path?.ToString());
    }

    public static TheoryData<string, string, string> Rejected => new()
    {
        { "not JSON", "{\"schemas\":", "invalidSyntax" },
        { "a JSON array", "[]", "invalidSyntax" },
        { "no PatchOp schema", """{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"add","value":{}}]}""", "invalidSyntax" },
        { "no Operations", """{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}""", "invalidSyntax" },
        { "empty Operations", Body("[]"), "invalidSyntax" },
        { "unknown op", Body("""[{"op":"move","path":"title","value":"x"}]"""), "invalidSyntax" },
        { "remove without path", Body("""[{"op":"remove"}]"""), "noTarget" },
        { "add without value", Body("""[{"op":"add","path":"title"}]"""), "invalidValue" },
        { "add with null value", Body("""[{"op":"add","path":"title","value":null}]"""), "invalidValue" },
        { "path-less replace with a string", Body("""[{"op":"replace","value":"x"}]"""), "invalidValue" },
        { "path that is not a string", Body("""[{"op":"replace","path":5,"value":"x"}]"""), "invalidPath" },
        { "path with an unbalanced bracket", Body("""[{"op":"remove","path":"members[value eq \"a\""}]"""), "invalidPath" },
        { "path with junk after it", Body("""[{"op":"remove","path":"members junk"}]"""), "invalidPath" },
        { "path starting with a digit", Body("""[{"op":"replace","path":"1name","value":"x"}]"""), "invalidPath" },
        { "operation that is not an object", Body("""["add"]"""), "invalidSyntax" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Rejects_a_malformed_PATCH_request(string name, string body, string scimType)
    {
        var parsed = ScimPatchRequest.Parse(Encoding.UTF8.GetBytes(body));

        Assert.False(parsed.IsSuccess, name);
        Assert.Equal(400, parsed.Error.Status);
        Assert.Equal(scimType, parsed.Error.ScimType);
    }
}
