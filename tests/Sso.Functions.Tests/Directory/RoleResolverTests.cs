using System.Text.Json.Nodes;
using Sso.Functions.DirectorySync;
using Sso.Functions.Tenants;

namespace Sso.Functions.Tests.DirectorySync;

public class RoleResolverTests
{
    private static readonly TenantSettings Deepnote = new()
    {
        Roles = ["viewer", "editor", "admin"],
        DefaultRole = "viewer",
        GroupRoleMappings = [new("Deepnote Admins", "admin"), new("grp_editors", "editor"), new("Everyone", "viewer")],
        RoleAttribute = "urn:ietf:params:scim:schemas:extension:planetscale:2.0:User:planetscale_role",
    };

    private static JsonObject User(string? role = null) => role is null
        ? new JsonObject { ["userName"] = "a" }
        : new JsonObject { ["userName"] = "a", ["urn:ietf:params:scim:schemas:extension:planetscale:2.0:User"] = new JsonObject { ["planetscale_role"] = role } };

    public static TheoryData<string, string?, string[], string> Cases => new()
    {
        { "no group, no attribute: the default role", null, [], "viewer" },
        { "a group mapped by display name", null, ["Deepnote Admins"], "admin" },
        { "display names match ignoring case", null, ["deepnote admins"], "admin" },
        { "a group mapped by id", null, ["grp_editors"], "editor" },
        { "the highest of several wins", null, ["Everyone", "grp_editors", "Deepnote Admins"], "admin" },
        { "an unmapped group: the default role", null, ["Marketing"], "viewer" },
        { "the role attribute", "editor", [], "editor" },
        { "the role attribute in another case", "Admin", [], "admin" },
        { "an unknown attribute value is ignored", "superuser", [], "viewer" },
        { "attribute and groups: the highest wins", "editor", ["Deepnote Admins"], "admin" },
        { "a lower group does not pull a higher attribute down", "admin", ["Everyone"], "admin" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Resolves_the_highest_role_a_user_qualifies_for(string name, string? attribute, string[] groups, string expected)
    {
        var refs = groups.Select(g => g.StartsWith("grp_") ? new RoleResolver.GroupRef(g, "Some name") : new RoleResolver.GroupRef("grp_" + g.Length, g));

        Assert.True(expected == RoleResolver.Resolve(Deepnote, User(attribute), refs), name);
    }

    [Fact]
    public void Finds_a_bare_role_attribute_name_in_an_extension()
    {
        var settings = Deepnote with { RoleAttribute = "planetscale_role" };

        Assert.Equal("editor", RoleResolver.Resolve(settings, User("editor"), []));
    }
}
