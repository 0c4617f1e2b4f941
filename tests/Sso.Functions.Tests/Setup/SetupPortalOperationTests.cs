using System.Net.Http.Headers;
using Sso.Functions.Connections;
using Sso.Functions.Setup;
using Sso.Functions.Tenants;
using Sso.Functions.Tests.Scim;
using Sso.Testing;
using TenantId = Sso.Functions.Storage.TenantId;

namespace Sso.Functions.Tests.Setup;

/// <summary>
/// <see cref="SetupPortal"/>, the wizard's steps without HTTP, on Azurite through the app's DI:
/// what the handlers call once they have passed the session gate.
/// </summary>
public class SetupPortalOperationTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private async Task<(SetupPortalTenant Tenant, SetupLink Link)> LinkAsync(params string[] features)
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var link = await tenant.CreateLinkAsync(features);
        return (tenant, (await App.Get<SetupLinkStore>().FindAsync(new TenantId(tenant.TenantId), link.Id, default))!);
    }

    [Fact]
    public async Task The_status_counts_the_users_and_groups_of_the_directory_the_link_made()
    {
        var (tenant, link) = await LinkAsync("sso", "dsync");
        var portal = App.Get<SetupPortal>();
        var issued = await portal.IssueScimTokenAsync(link, default);
        Assert.True(issued.IsSuccess, issued.ToString());
        var directoryId = issued.Value.Link.DirectoryId!.Value;
        Assert.StartsWith("scim_", issued.Value.Plaintext);
        Assert.Equal(directoryId, (await App.Get<SetupLinkStore>().FindAsync(link.TenantId, link.Id, default))!.DirectoryId);

        var scim = App.CreateAnonymousClient();
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issued.Value.Plaintext);
        var directory = new ScimTestDirectory
        {
            TenantId = tenant.TenantId, DirectoryId = directoryId.Value, Token = issued.Value.Plaintext, TokenId = "",
            ScimBaseUrl = "http://localhost/scim/v2/" + directoryId.Value, Scim = scim, Admin = tenant.Admin, App = App,
        };
        var grace = await directory.CreateUserAsync("grace@" + tenant.Domain);
        await directory.CreateUserAsync("alan@" + tenant.Domain);
        await directory.CreateGroupAsync("Engineering", grace["id"]!.GetValue<string>());

        // A second token goes to the same directory.
        var again = await portal.IssueScimTokenAsync(issued.Value.Link, default);
        Assert.True(again.IsSuccess, again.ToString());
        Assert.Equal(directoryId, again.Value.Link.DirectoryId);
        Assert.NotEqual(issued.Value.Plaintext, again.Value.Plaintext);

        var status = await portal.StatusAsync(again.Value.Link, default);
        var listed = Assert.Single(status.Directories!);
        Assert.Equal(directoryId, listed.Directory.Id);
        Assert.Equal("2", listed.Users);
        Assert.Equal("1", listed.Groups);
        Assert.Equal(2, listed.TokenCount);
        Assert.Empty(status.Connections!);
        Assert.NotNull(status.SignIns);
        Assert.NotNull(status.ScimRequests);
    }

    [Fact]
    public async Task The_status_leaves_out_the_sections_a_link_does_not_include()
    {
        var (_, link) = await LinkAsync("sso");
        var status = await App.Get<SetupPortal>().StatusAsync(link, default);
        Assert.Null(status.Directories);
        Assert.Null(status.ScimRequests);
        Assert.NotNull(status.Connections);
    }

    [Fact]
    public async Task Choosing_a_SAML_IdP_reserves_the_connection_id_and_a_refused_save_creates_nothing()
    {
        var (tenant, link) = await LinkAsync("sso");
        var portal = App.Get<SetupPortal>();
        var unknown = await portal.ChooseIdpAsync(link, "not-an-idp", default);
        Assert.False(unknown.Error.IsConflict);
        Assert.Null(await portal.SsoPageAsync(link, default));

        var chosen = await portal.ChooseIdpAsync(link, "okta", default);
        Assert.True(chosen.IsSuccess, chosen.ToString());
        Assert.Equal("okta", chosen.Value.Idp);
        var reserved = chosen.Value.ConnectionId!.Value;
        var page = (await portal.SsoPageAsync(chosen.Value, default))!;
        Assert.Equal("okta", page.Guide.Id);
        Assert.Null(page.Connection);

        var tenantRow = (await App.Get<TenantStore>().FindAsync(new TenantId(tenant.TenantId), default))!;
        var both = await portal.SaveSsoAsync(tenantRow, chosen.Value, page.Guide,
            new SetupSsoForm("https://idp.example/metadata", "<EntityDescriptor/>", "", "", "", false), default);
        Assert.Equal("Give either the metadata URL or the metadata XML, not both.", both.Error.Message);
        var none = await portal.SaveSsoAsync(tenantRow, chosen.Value, page.Guide, new SetupSsoForm(" ", "", "", "", "", false), default);
        Assert.Equal("Paste the IdP metadata URL or the metadata XML.", none.Error.Message);
        var broken = await portal.SaveSsoAsync(tenantRow, chosen.Value, page.Guide,
            new SetupSsoForm("", "<not metadata", "", "", "", false), default);
        Assert.False(broken.IsSuccess);
        Assert.False(broken.Error.IsConflict);
        Assert.Null(await App.Get<ConnectionStore>().FindAsync(tenantRow.Id, reserved, default));
        Assert.Empty(await App.Get<ConnectionStore>().ListAsync(tenantRow.Id, default));
        // The reserved id stays: the URLs the admin pasted into the IdP keep working.
        Assert.Equal(reserved, (await portal.ChooseIdpAsync(chosen.Value, "entra", default)).Value.ConnectionId);
    }

    [Fact]
    public async Task Opening_a_link_by_its_secret_refuses_unknown_revoked_and_expired_links()
    {
        var tenant = await SetupPortalTenant.CreateAsync(App);
        var sessions = App.Get<SetupSessions>();
        var open = await tenant.CreateLinkAsync(["sso"]);
        var opened = await sessions.OpenAsync(open.Token, default);
        Assert.True(opened.IsSuccess, opened.ToString());
        Assert.Equal(open.Id, opened.Value.Link.Id);
        Assert.Equal(tenant.TenantId, opened.Value.Tenant.Id.Value);
        Assert.Equal(SetupLinkRefusal.Unknown, (await sessions.OpenAsync(open.Token + "x", default)).Error);

        var revoked = await tenant.CreateLinkAsync(["sso"]);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await tenant.RevokeAsync(revoked)).StatusCode);
        Assert.Equal(SetupLinkRefusal.Revoked, (await sessions.OpenAsync(revoked.Token, default)).Error);

        var expiring = await tenant.CreateLinkAsync(["sso"], expiresInHours: 1);
        Assert.True((await sessions.OpenAsync(expiring.Token, default)).IsSuccess);
        App.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(SetupLinkRefusal.Expired, (await sessions.OpenAsync(expiring.Token, default)).Error);
    }
}
