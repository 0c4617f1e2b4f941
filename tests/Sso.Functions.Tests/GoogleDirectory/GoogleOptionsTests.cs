using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Sso.Functions.GoogleDirectory;
using Sso.Functions.Hosting;
using Sso.Testing;

namespace Sso.Functions.Tests.GoogleDirectory;

public class GoogleOptionsTests
{
    private static GoogleOptions From(bool development, string tokenUrl) => GoogleOptions.From(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Google:TokenUrl"] = tokenUrl }).Build(),
        new SsoOptions(new Uri("https://sso.example.com"), development));

    [Fact]
    public void Loopback_http_is_allowed_in_Development_only_and_https_everywhere()
    {
        Assert.Equal("http://127.0.0.1:5000/token", From(true, "http://127.0.0.1:5000/token").TokenUrl.ToString());
        Assert.Throws<InvalidOperationException>(() => From(false, "http://127.0.0.1:5000/token"));
        Assert.Throws<InvalidOperationException>(() => From(true, "http://google.example.com/token"));
        var defaults = From(false, "https://oauth2.googleapis.com/token");
        Assert.Equal("https://accounts.google.com/o/oauth2/v2/auth", defaults.AuthorizeUrl.ToString());
        Assert.Equal("https://admin.googleapis.com/", defaults.DirectoryApiBaseUrl.ToString());
        Assert.Equal(TimeSpan.FromMinutes(30), defaults.SyncInterval);
    }

    [Fact]
    public void Maps_google_users_and_direct_user_members_only()
    {
        var user = GoogleMapping.User(JsonNode.Parse("""
            {"id":"123","primaryEmail":"a@acme.test","name":{"givenName":"A","familyName":"B"},"suspended":true,"lastLoginTime":"x","orgUnitPath":"/"}
            """)!.AsObject())!.Value;
        Assert.Equal("usr_g123", user.Id);
        Assert.False(user.Resource["active"]!.GetValue<bool>());
        Assert.Equal("a@acme.test", user.Resource["userName"]!.GetValue<string>());
        Assert.Null(user.Resource["google"]!["lastLoginTime"]);
        Assert.Equal("/", user.Resource["google"]!["orgUnitPath"]!.GetValue<string>());
        Assert.Null(GoogleMapping.User(JsonNode.Parse("""{"id":"1"}""")!.AsObject()));
        Assert.Equal(["usr_g1"], GoogleMapping.UserMembers(JsonNode.Parse("""
            {"members":[{"id":"1","type":"USER"},{"id":"2","type":"GROUP"},{"id":"3","type":"CUSTOMER"}]}
            """)!.AsObject()));
    }
}

/// <summary>Without the SaaS team's Google OAuth client, a Google directory is refused in problem+json and nothing is created.</summary>
public sealed class GoogleUnconfiguredTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task Creating_a_google_directory_without_the_oauth_client_is_a_validation_problem()
    {
        var tenant = await Sso.Testing.TestTenant.CreateAsync(fixture.App);
        var response = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(tenant.Admin,
            $"/api/v1/tenants/{tenant.TenantId}/directories", new { name = "Google", provider = "google-directory" });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Google:ClientId", await response.Content.ReadAsStringAsync());
        Assert.Empty(await fixture.App.Get<Sso.Functions.DirectorySync.DirectoryRecordStore>()
            .ListDirectoryIdsAsync(new Sso.Functions.Storage.TenantId(tenant.TenantId), default));
    }
}
