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

    [Fact]
    public async Task Still_requires_the_directory_token_on_an_unknown_path()
    {
        var directory = await CreateAsync(fixture.App);
        var anonymous = fixture.App.CreateAnonymousClient();

        var response = await anonymous.GetAsync(directory.Base + "/Bulk");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
