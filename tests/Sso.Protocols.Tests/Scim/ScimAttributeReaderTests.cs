using System.Text.Json.Nodes;
using Sso.Protocols.Scim;

namespace Sso.Protocols.Tests.Scim;

public class ScimAttributeReaderTests
{
    private static readonly JsonObject User = JsonNode.Parse("""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:planetscale:2.0:User"],
         "userName":"a","title":"Engineer",
         "roles":[{"value":"viewer"},{"value":"admin","primary":true}],
         "urn:ietf:params:scim:schemas:extension:planetscale:2.0:User":{"planetscale_role":"Admin","tags":["x","y"]}}
        """)!.AsObject();

    [Theory]
    [InlineData("a core attribute", "title", "Engineer")]
    [InlineData("an attribute of an extension the IdP declared", "urn:ietf:params:scim:schemas:extension:planetscale:2.0:User:planetscale_role", "Admin")]
    [InlineData("a multi-valued attribute", "roles", "viewer,admin")]
    [InlineData("a value path", "roles[primary eq true].value", "admin")]
    [InlineData("an array of strings", "urn:ietf:params:scim:schemas:extension:planetscale:2.0:User:tags", "x,y")]
    [InlineData("an absent attribute", "nickName", "")]
    [InlineData("a malformed path", "roles[", "")]
    public void Reads_the_strings_at_an_attribute_path(string name, string path, string expected)
    {
        Assert.True(expected == string.Join(",", ScimAttributeReader.Strings(User, path, ScimSchemas.UserResource)), name);
    }
}
