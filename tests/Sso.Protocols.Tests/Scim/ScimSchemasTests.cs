using System.Text.Json.Nodes;
using Sso.Protocols.Scim;

namespace Sso.Protocols.Tests.Scim;

public class ScimSchemasTests
{
    [Fact]
    public void Renders_userName_as_case_insensitive_and_server_unique()
    {
        var schema = ScimSchemas.RenderSchema(ScimSchemas.UserSchema, "https://sso.example/scim/v2/dir_1");

        var userName = schema["attributes"]!.AsArray().Single(a => a!["name"]!.GetValue<string>() == "userName")!;
        Assert.False(userName["caseExact"]!.GetValue<bool>());
        Assert.Equal("server", userName["uniqueness"]!.GetValue<string>());
        Assert.True(userName["required"]!.GetValue<bool>());
        Assert.Equal("https://sso.example/scim/v2/dir_1/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", schema["meta"]!["location"]!.GetValue<string>());
    }

    [Fact]
    public void Renders_groups_and_password_with_their_real_mutability()
    {
        var attributes = ScimSchemas.RenderSchema(ScimSchemas.UserSchema, "x")["attributes"]!.AsArray();

        Assert.Equal("readOnly", attributes.Single(a => a!["name"]!.GetValue<string>() == "groups")!["mutability"]!.GetValue<string>());
        Assert.Equal("never", attributes.Single(a => a!["name"]!.GetValue<string>() == "password")!["returned"]!.GetValue<string>());
    }

    [Fact]
    public void Says_the_User_resource_type_takes_the_enterprise_extension()
    {
        var type = ScimSchemas.RenderResourceType(ScimSchemas.UserResource, "x");

        Assert.Equal("/Users", type["endpoint"]!.GetValue<string>());
        Assert.Equal(ScimSchemas.EnterpriseUser, type["schemaExtensions"]![0]!["schema"]!.GetValue<string>());
    }

    [Fact]
    public void Advertises_patch_filter_and_etag_but_not_bulk_sort_or_password_change()
    {
        var config = ScimSchemas.RenderServiceProviderConfig("x", 200);

        Assert.True(config["patch"]!["supported"]!.GetValue<bool>());
        Assert.True(config["filter"]!["supported"]!.GetValue<bool>());
        Assert.True(config["etag"]!["supported"]!.GetValue<bool>());
        Assert.False(config["bulk"]!["supported"]!.GetValue<bool>());
        Assert.False(config["sort"]!["supported"]!.GetValue<bool>());
        Assert.False(config["changePassword"]!["supported"]!.GetValue<bool>());
    }

    [Fact]
    public void Writes_errors_with_status_as_a_string()
    {
        var error = ScimError.Uniqueness("userName").ToJson();

        Assert.Equal("409", error["status"]!.GetValue<string>());
        Assert.Equal("uniqueness", error["scimType"]!.GetValue<string>());
        Assert.Equal(ScimSchemas.Error, error["schemas"]![0]!.GetValue<string>());
    }
}
