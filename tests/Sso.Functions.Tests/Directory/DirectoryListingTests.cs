using Sso.Functions.DirectorySync;
using Sso.Testing;
using static Sso.Functions.Tests.Scim.ScimTestDirectory;

namespace Sso.Functions.Tests.DirectorySync;

/// <summary>The management API's directory listings called as an operation, against Azurite (users synced over SCIM).</summary>
public class DirectoryListingTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private DirectoryListing Listing => fixture.App.Get<DirectoryListing>();

    private static string UniqueName(string prefix) => $"{prefix}.{Guid.NewGuid():N}@example.com";

    [Fact]
    public async Task Lists_users_with_their_groups_and_resolved_role_and_groups_with_their_members_page_by_page()
    {
        var directory = await CreateAsync(fixture.App, "entra", new
        {
            roles = new[] { "viewer", "admin" },
            defaultRole = "viewer",
            groupRoleMappings = new[] { new { group = "Admins", role = "admin" } },
        });
        var admin = (await directory.CreateUserAsync(UniqueName("admin")))["id"]!.GetValue<string>();
        var plain = (await directory.CreateUserAsync(UniqueName("plain")))["id"]!.GetValue<string>();
        var third = (await directory.CreateUserAsync(UniqueName("third")))["id"]!.GetValue<string>();
        var admins = (await directory.CreateGroupAsync("Admins", admin))["id"]!.GetValue<string>();
        await directory.CreateGroupAsync("Everyone", admin, plain, third);
        var record = (await fixture.App.Get<DirectoryRecordStore>().FindDirectoryAsync(new DirectoryId(directory.DirectoryId), default))!;

        var users = new Dictionary<string, System.Text.Json.Nodes.JsonObject>();
        string? cursor = null;
        do
        {
            var page = await Listing.ListUsersAsync(record, new DirectoryPaging(cursor, 2), default);
            Assert.True(page.Rows.Count <= 2);
            foreach (var row in page.Rows) users.Add(row["id"]!.GetValue<string>(), row);
            cursor = page.NextCursor;
        } while (cursor is not null);

        Assert.Equal(3, users.Count);
        Assert.Equal("admin", users[admin]["role"]!.GetValue<string>());
        Assert.Equal(2, users[admin]["groups"]!.AsArray().Count);
        Assert.Contains(users[admin]["groups"]!.AsArray(), g => g!["id"]!.GetValue<string>() == admins);
        Assert.Equal("viewer", users[plain]["role"]!.GetValue<string>());
        Assert.Single(users[plain]["groups"]!.AsArray());

        var groups = await Listing.ListGroupsAsync(record, DirectoryPaging.Parse(null, null), default);
        Assert.Null(groups.NextCursor);
        var everyone = Assert.Single(groups.Rows, g => g["displayName"]!.GetValue<string>() == "Everyone");
        Assert.Equal(3, everyone["members"]!.AsArray().Count);
    }

    [Theory]
    [InlineData(null, null, null, 50)]
    [InlineData("", "", null, 50)]
    [InlineData("abc", "0", "abc", 1)]
    [InlineData(null, "500", null, 200)]
    [InlineData(null, "ten", null, 50)]
    public void Paging_takes_the_cursor_and_clamps_the_limit(string? cursor, string? limit, string? expectedCursor, int expectedLimit) =>
        Assert.Equal(new DirectoryPaging(expectedCursor, expectedLimit), DirectoryPaging.Parse(cursor, limit));
}
