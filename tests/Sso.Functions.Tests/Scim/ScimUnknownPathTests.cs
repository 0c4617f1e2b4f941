using System.Net;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.Scim;

public class ScimUnknownPathTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Theory]
    [InlineData("GET", "/Bulk")]
    [InlineData("POST", "/Bulk")]
    [InlineData("GET", "/Me")]
    [InlineData("DELETE", "/Userz/123")]
    public async Task Answers_an_unknown_path_with_a_scim_404(string method, string path)
    {
        var directory = await CreateAsync(fixture.App);

        var response = await directory.Scim.SendAsync(new HttpRequestMessage(new HttpMethod(method), directory.Base + path)
        {
            Content = method == "GET" || method == "DELETE" ? null : Body("{}"),
        });

        await AssertScimErrorAsync(response, HttpStatusCode.NotFound, null);
    }

    [Theory]
    [InlineData("POST", "/ServiceProviderConfig", "GET")]
    [InlineData("DELETE", "/Users", "GET, POST")]
    [InlineData("PUT", "/Groups", "GET, POST")]
    [InlineData("POST", "/Users/usr_123", "GET, PUT, PATCH, DELETE")]
    [InlineData("DELETE", "/Schemas", "GET")]
    [InlineData("PATCH", "/ResourceTypes/User", "GET")]
    public async Task Answers_a_method_a_scim_path_does_not_take_with_a_scim_405_and_Allow(string method, string path, string allow)
    {
        var directory = await CreateAsync(fixture.App);

        var response = await directory.Scim.SendAsync(new HttpRequestMessage(new HttpMethod(method), directory.Base + path)
        {
            Content = method == "DELETE" ? null : Body("{}"),
        });

        await AssertScimErrorAsync(response, HttpStatusCode.MethodNotAllowed, null);
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
    }

    [Fact]
    public async Task Still_requires_the_directory_token_on_an_unknown_path()
    {
        var directory = await CreateAsync(fixture.App);
        var anonymous = fixture.App.CreateAnonymousClient();

        var response = await anonymous.GetAsync(directory.Base + "/Bulk");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
