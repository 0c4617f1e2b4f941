using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Testing;

namespace Sso.Functions.Tests.Hosting;

public class AdminKeyTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    public static TheoryData<string, string?> RefusedAuthorizations => new()
    {
        { "no header", null },
        { "a wrong key", "Bearer not-the-admin-key" },
        { "the right key under another scheme", $"Basic {SsoAppFactory.AdminKey}" },
        { "an empty bearer", "Bearer " },
        { "the key with a suffix", $"Bearer {SsoAppFactory.AdminKey}x" },
    };

    [Theory]
    [MemberData(nameof(RefusedAuthorizations))]
    public async Task Refuses_a_management_call_with_401_problem(string _, string? authorization)
    {
        var client = fixture.App.CreateAnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tenants")
        {
            Content = JsonContent.Create(new { name = "Intruder", domains = new[] { "intruder.test" } }),
        };
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.EndsWith("/unauthorized", problem!["type"]!.GetValue<string>());
        var admin = fixture.App.CreateAdminClient();
        var list = await admin.GetFromJsonAsync<JsonObject>("/api/v1/tenants");
        Assert.DoesNotContain(list!["data"]!.AsArray(), t => t!["name"]!.GetValue<string>() == "Intruder");
    }

    [Fact]
    public async Task Accepts_the_admin_key_as_a_bearer_token()
    {
        var client = fixture.App.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SsoAppFactory.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/tenants")).StatusCode);
    }
}
