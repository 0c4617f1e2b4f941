using System.Text;
using Sso.Protocols.Scim.Patch;

namespace Sso.Protocols.Tests.Scim;

public class ScimGroupPatchTests
{
    private static ScimGroupPatch Split(string operations)
    {
        var body = $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{operations}}}""";
        var split = ScimGroupPatch.Split(ScimPatchRequest.Parse(Encoding.UTF8.GetBytes(body)).Value);
        Assert.True(split.IsSuccess, split.ToString());
        return split.Value;
    }

    // operations, replacesAll, added, removed, number of non-member operations left
    public static TheoryData<string, string, bool, string, string, int> Cases => new()
    {
        { "Entra: add one member", """[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]""", false, "f648f8d5ea4e4cd38e9c", "", 0 },
        { "Entra: remove one member by value", """[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"a0"}]}]""", false, "", "a0", 0 },
        { "Entra: rename only", """[{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]""", false, "", "", 1 },
        { "Okta: remove by filter then add", """[{"op":"remove","path":"members[value eq \"89bb\"]"},{"op":"add","path":"members","value":[{"value":"23a3","display":"test.user@okta.local"}]}]""", false, "23a3", "89bb", 0 },
        { "Okta: rename with path-less value", """[{"op":"replace","value":{"id":"abf4","displayName":"Renamed"}}]""", false, "", "", 1 },
        { "several members in one add", """[{"op":"add","path":"members","value":[{"value":"a"},{"value":"b"}]}]""", false, "a,b", "", 0 },
        { "remove by an or of values", """[{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}]""", false, "", "a,b", 0 },
        { "replace members", """[{"op":"replace","path":"members","value":[{"value":"x"}]}]""", true, "x", "", 0 },
        { "replace members with nothing", """[{"op":"replace","path":"members","value":[]}]""", true, "", "", 0 },
        { "remove all members", """[{"op":"remove","path":"members"}]""", true, "", "", 0 },
        { "remove all, then add", """[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[{"value":"n"}]}]""", true, "n", "", 0 },
        { "add, then remove the same", """[{"op":"add","path":"members","value":[{"value":"a"}]},{"op":"remove","path":"members[value eq \"a\"]"}]""", false, "", "a", 0 },
        { "path-less add with members and displayName", """[{"op":"add","value":{"displayName":"G","members":[{"value":"m"}]}}]""", false, "m", "", 1 },
        { "URN-qualified members path", """[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:Group:members","value":[{"value":"u"}]}]""", false, "u", "", 0 },
        { "bare id strings", """[{"op":"add","path":"members","value":["u1","u2"]}]""", false, "u1,u2", "", 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Turns_a_group_PATCH_into_membership_changes(string name, string operations, bool replacesAll, string added, string removed, int others)
    {
        var split = Split(operations);

        Assert.True(replacesAll == split.Members.ReplacesAll, name);
        Assert.Equal(added, string.Join(",", split.Members.Added.Order(StringComparer.Ordinal)));
        Assert.Equal(removed, string.Join(",", split.Members.Removed.Order(StringComparer.Ordinal)));
        Assert.Equal(others, split.Attributes.Operations.Count);
    }

    public static TheoryData<string, string, string> Rejected => new()
    {
        { "member without value", """[{"op":"add","path":"members","value":[{"display":"x"}]}]""", "invalidValue" },
        { "members selected by display", """[{"op":"remove","path":"members[display eq \"x\"]"}]""", "invalidFilter" },
        { "a part of a member", """[{"op":"replace","path":"members[value eq \"a\"].display","value":"x"}]""", "invalidPath" },
        { "replace with a filter", """[{"op":"replace","path":"members[value eq \"a\"]","value":{"value":"b"}}]""", "invalidPath" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Rejects_membership_changes_it_cannot_express_as_rows(string name, string operations, string scimType)
    {
        var body = $$"""{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{{operations}}}""";
        var split = ScimGroupPatch.Split(ScimPatchRequest.Parse(Encoding.UTF8.GetBytes(body)).Value);

        Assert.False(split.IsSuccess, name);
        Assert.Equal(scimType, split.Error.ScimType);
    }

    [Fact]
    public void Applies_a_delta_to_the_current_membership()
    {
        var delta = Split("""[{"op":"remove","path":"members[value eq \"a\"]"},{"op":"add","path":"members","value":[{"value":"c"}]}]""").Members;

        Assert.Equal(["b", "c"], delta.ApplyTo(["a", "b"]).Order(StringComparer.Ordinal));
    }
}
