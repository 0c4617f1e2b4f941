using System.Text.Json.Nodes;
using Sso.Protocols.Scim;

namespace Sso.Protocols.Tests.Scim;

public class ScimAttributeProjectionTests
{
    private static JsonObject User() => JsonNode.Parse("""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
         "id":"usr_1","externalId":"e1","userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},
         "emails":[{"value":"b@x","type":"work"}],"active":true,"password":"leaked?",
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops","costCenter":"1"},
         "meta":{"resourceType":"User"}}
        """)!.AsObject();

    public static TheoryData<string, string?, string?, string> Cases => new()
    {
        { "default drops only returned:never", null, null, "schemas,id,externalId,userName,name,emails,active,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,meta" },
        { "attributes keeps id and schemas", "userName", null, "schemas,id,userName" },
        { "attributes is case-insensitive", "USERNAME,Name", null, "schemas,id,userName,name" },
        { "sub-attribute selection", "name.givenName", null, "schemas,id,name" },
        { "extension attribute selection", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", null, "schemas,id,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" },
        { "whole extension selection", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", null, "schemas,id,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" },
        { "excludedAttributes", null, "emails,meta", "schemas,id,externalId,userName,name,active,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" },
        { "id cannot be excluded", null, "id", "schemas,id,externalId,userName,name,emails,active,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,meta" },
        { "password cannot be requested", "password", null, "schemas,id" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Projects_attributes_as_RFC_7644_describes(string name, string? attributes, string? excluded, string expectedKeys)
    {
        var projection = ScimAttributeProjection.Parse(attributes, excluded).Value;

        var result = projection.Apply(User(), ScimSchemas.UserResource);

        Assert.True(expectedKeys == string.Join(",", result.Select(p => p.Key)), $"{name}: {string.Join(",", result.Select(p => p.Key))}");
    }

    [Fact]
    public void Keeps_only_the_requested_sub_attributes()
    {
        var result = ScimAttributeProjection.Parse("name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", null).Value
            .Apply(User(), ScimSchemas.UserResource);

        Assert.Equal("""{"givenName":"Barbara"}""", result["name"]!.ToJsonString());
        Assert.Equal("""{"department":"Ops"}""", result["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]!.ToJsonString());
    }

    [Fact]
    public void Excludes_a_sub_attribute_and_keeps_the_rest()
    {
        var result = ScimAttributeProjection.Parse(null, "name.familyName").Value.Apply(User(), ScimSchemas.UserResource);

        Assert.Equal("""{"givenName":"Barbara"}""", result["name"]!.ToJsonString());
    }

    [Fact]
    public void Tells_the_store_when_Entra_excludes_members()
    {
        var projection = ScimAttributeProjection.Parse(null, "members").Value;

        Assert.False(projection.Includes(ScimSchemas.GroupResource, "members"));
        Assert.True(ScimAttributeProjection.Default.Includes(ScimSchemas.GroupResource, "members"));
    }

    [Fact]
    public void Rejects_an_attribute_list_with_a_malformed_path()
    {
        var parsed = ScimAttributeProjection.Parse("userName,9bad", null);

        Assert.Equal("invalidPath", parsed.Error.ScimType);
    }
}
