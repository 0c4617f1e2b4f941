using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.Tests.Deprovisioning;
using Sso.Testing;

namespace Sso.Functions.Tests.GoogleDirectory;

/// <summary>A fake of its own, so the directory holds exactly the users this test lists.</summary>
public sealed class GoogleMassDeprovisionFixture : GoogleAppFixture;

/// <summary>What a complete listing removes passes the mass-deprovisioning guard, as a burst of SCIM deletes does.</summary>
public sealed class GoogleMassDeprovisionTests(GoogleMassDeprovisionFixture fixture) : IClassFixture<GoogleMassDeprovisionFixture>
{
    [Fact]
    public async Task A_sync_that_removes_most_users_is_held_by_the_guard_and_their_access_stays_until_released()
    {
        var app = fixture.App;
        var google = fixture.Google;
        var users = Enumerable.Range(0, 6).Select(i => google.AddUser($"user{i}.{Guid.NewGuid():N}@acme.test", "User", i.ToString())).ToList();
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.PatchSettingsAsync(new JsonObject { ["holdMassDeprovision"] = true, ["massDeprovisionMinUsers"] = 3 });
        var directoryId = (await GoogleTestDirectory.ConnectAsync(tenant, google)).DirectoryId;
        await app.DrainQueuesAsync();

        var listed = (await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directoryId}/users?limit=200"))!["data"]!.AsArray();
        Assert.Equal(6, listed.Count);
        var leaver = listed.Single(u => u!["userName"]!.GetValue<string>() == users[0]["primaryEmail"]!.GetValue<string>())!["id"]!.GetValue<string>();
        var accessToken = await app.IssueAccessTokenAsync(tenant.TenantId, leaver, users[0]["primaryEmail"]!.GetValue<string>());

        foreach (var user in users.Take(4)) google.RemoveUser(user["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Admin.PostAsync($"/api/v1/directories/{directoryId}/sync", null)).StatusCode);
        await app.DrainQueuesAsync();

        var holds = await tenant.Admin.GetFromJsonAsync<JsonObject>($"/api/v1/directories/{directoryId}/holds");
        var hold = Assert.Single(holds!["data"]!.AsArray())!;
        Assert.Equal("held", hold["status"]!.GetValue<string>());
        // The revocation is parked in the hold: the leaver's token still works until an administrator releases it.
        Assert.Equal(HttpStatusCode.OK, await app.UserInfoStatusAsync(accessToken));
        Assert.Equal(HttpStatusCode.OK,
            (await tenant.Admin.PostAsync($"/api/v1/directories/{directoryId}/holds/{hold["id"]!.GetValue<string>()}/release", null)).StatusCode);
        await app.DrainQueuesAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await app.UserInfoStatusAsync(accessToken));
    }
}
