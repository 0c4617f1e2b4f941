using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Sso.Functions.Audit;

namespace Sso.Functions.Tests.Audit;

public class RequestAuditTests
{
    [Theory]
    [InlineData("CreateTenant", "tenant.create")]
    [InlineData("RevokeDirectoryToken", "directory_token.revoke")]
    [InlineData("RefreshConnectionMetadata", "connection_metadata.refresh")]
    [InlineData("ReplayDeadLetter", "dead_letter.replay")]
    [InlineData("Ping", "Ping")]
    public void Reads_the_function_name_as_noun_and_verb(string functionName, string action) =>
        Assert.Equal(action, RequestAudit.ActionOf(functionName));

    [Theory]
    [InlineData("""{"name":"x","domains":["a.test"]}""", "name,domains")]
    [InlineData("""{"settings":{"jitProvisioning":true,"roles":["a"]},"name":"x"}""", "settings.jitProvisioning,settings.roles,name")]
    [InlineData("""{"settings":{}}""", "settings")]
    [InlineData("""{"attributeMapping":{"email":{"deep":"x"}}}""", "attributeMapping.email")]
    [InlineData("""{"list":[{"inArray":1}],"after":2}""", "list,after")]
    [InlineData("""{"clientSecret":"s3cr3t-value"}""", "clientSecret")]
    [InlineData("""{"bad name with spaces":1,"ok":2}""", "ok")]
    [InlineData("""{"name":"x", broken""", "name")]
    [InlineData("""[1,2]""", "")]
    public void Lists_member_names_one_level_deep_and_never_values(string json, string expected) =>
        Assert.Equal(expected, string.Join(",", RequestAudit.FieldNames(Encoding.UTF8.GetBytes(json))));

    [Theory]
    [InlineData("filter", "userName eq \"alice@corp.test\"", "filter=userName eq \"…\"")]
    [InlineData("filter", "emails[value eq \"a@b.test\"] and active eq true", "filter=emails[value eq \"…\"] and active eq true")]
    [InlineData("filter", "displayName eq \"with \\\"quote\\\" inside\"", "filter=displayName eq \"…\"")]
    [InlineData("count", "100", "count=100")]
    [InlineData("email", "alice@corp.test", "email=…")]
    public void Withholds_query_values_that_could_name_a_person(string name, string value, string expected) =>
        Assert.Equal(expected, RequestAudit.DescribeQuery(new QueryCollection(new Dictionary<string, StringValues> { [name] = value })));
}
