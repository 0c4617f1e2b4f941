using System.Security.Cryptography;
using System.Text;
using Sso.Functions.DirectorySync;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.DirectorySync;

/// <summary>
/// <see cref="DirectoryProvisioning"/> called as the setup portal and the console call it: from DI,
/// with typed inputs, answering a problem value (the API's own words) instead of HTTP.
/// </summary>
public class DirectoryProvisioningTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    [Fact]
    public async Task Creates_a_directory_with_its_first_token_stored_as_a_hash()
    {
        var tenant = await TestTenant.CreateAsync(App);

        var created = await App.Get<DirectoryProvisioning>().CreateWithTokenAsync(new TenantId(tenant.TenantId), " Okta ", "OKTA",
            "first", "setup_link:stl_x", default);

        Assert.True(created.IsSuccess, created.ToString());
        var (directory, token, plaintext) = created.Value;
        Assert.Equal(("Okta", "okta"), (directory.Name, directory.Provider));
        var stored = await App.Get<DirectoryRecordStore>().FindDirectoryAsync(directory.Id, default);
        Assert.Equal(tenant.TenantId, stored!.TenantId.Value);
        var match = await App.Get<DirectoryRecordStore>().FindTokenByHashAsync(directory.Id, SHA256.HashData(Encoding.UTF8.GetBytes(plaintext)), default);
        Assert.NotNull(match);
        var listed = Assert.Single(await App.Get<DirectoryRecordStore>().ListTokensAsync(directory.Id, default));
        Assert.Equal((token.Id, "first", "setup_link:stl_x"), (listed.Id, listed.Name, listed.CreatedBy));
    }

    [Fact]
    public async Task Refuses_an_unknown_provider_a_long_token_name_and_a_missing_token_with_the_API_problems()
    {
        var tenant = await TestTenant.CreateAsync(App);
        var provisioning = App.Get<DirectoryProvisioning>();

        var badProvider = await provisioning.CreateWithTokenAsync(new TenantId(tenant.TenantId), "Corp", "ldap", "default", null, default);
        var directory = (await provisioning.CreateWithTokenAsync(new TenantId(tenant.TenantId), "Corp", null, "default", null, default)).Value.Directory;
        var longName = await provisioning.CreateTokenAsync(directory.Id, new string('n', 101), null, null, default);
        var missing = await provisioning.RevokeTokenAsync(directory.Id, "tok_missing", default);

        Assert.Equal("'provider' must be one of entra, okta, google, onelogin, jumpcloud, generic, google-directory.", badProvider.Error.Detail);
        Assert.Equal("generic", directory.Provider);
        Assert.Equal((400, "'name' must be at most 100 characters."), (longName.Error.Status, longName.Error.Detail));
        Assert.Equal((404, "not-found"), (missing.Error.Status, missing.Error.Code));
        Assert.Single(await App.Get<DirectoryRecordStore>().ListTokensAsync(directory.Id, default));
    }

    [Fact]
    public async Task Issues_tokens_up_to_the_limit_and_revokes_one()
    {
        var tenant = await TestTenant.CreateAsync(App);
        var provisioning = App.Get<DirectoryProvisioning>();
        var directory = (await provisioning.CreateWithTokenAsync(new TenantId(tenant.TenantId), "Corp", "entra", "default", null, default)).Value.Directory;
        for (var i = 1; i < DirectoryProvisioning.MaxTokensPerDirectory; i++)
            Assert.True((await provisioning.CreateTokenAsync(directory.Id, "t" + i, null, null, default)).IsSuccess);

        var refused = await provisioning.CreateTokenAsync(directory.Id, "one too many", null, null, default);
        var revoked = await provisioning.RevokeTokenAsync(directory.Id, (await App.Get<DirectoryRecordStore>().ListTokensAsync(directory.Id, default))[0].Id, default);
        var afterRevoke = await provisioning.CreateTokenAsync(directory.Id, "room again", null, null, default);

        Assert.Equal($"A directory may have at most {DirectoryProvisioning.MaxTokensPerDirectory} tokens; revoke one first.", refused.Error.Detail);
        Assert.True(revoked.IsSuccess);
        Assert.True(afterRevoke.IsSuccess, afterRevoke.ToString());
    }
}

/// <summary>
/// <see cref="DirectoryProvisioning.CreatePulledAsync"/>, which the management API and the setup
/// portal both call for a Google Workspace directory, against the loopback fake of Google.
/// </summary>
public class DirectoryProvisioningPulledTests(Sso.Functions.Tests.GoogleDirectory.GoogleDirectoryFixture fixture)
    : IClassFixture<Sso.Functions.Tests.GoogleDirectory.GoogleDirectoryFixture>
{
    private SsoAppFactory App => fixture.App;

    [Fact]
    public async Task Creates_a_pulled_directory_waiting_for_its_authorization()
    {
        var tenant = await TestTenant.CreateAsync(App);
        var provisioning = App.Get<DirectoryProvisioning>();
        var authorization = provisioning.AuthorizationOf(DirectoryProviders.GoogleDirectory);

        var created = await provisioning.CreatePulledAsync(new TenantId(tenant.TenantId), " Google Workspace ", authorization!, default);

        Assert.True(created.IsSuccess, created.ToString());
        var stored = await App.Get<DirectoryRecordStore>().FindDirectoryAsync(created.Value.Directory.Id, default);
        Assert.Equal(("Google Workspace", DirectoryProviders.GoogleDirectory, tenant.TenantId), (stored!.Name, stored.Provider, stored.TenantId.Value));
        var state = await App.Get<DirectorySyncStore>().FindSyncStateAsync(stored.Id, default);
        Assert.Equal(DirectorySyncState.NeedsAuthorization, state!.State);
        Assert.Empty(await App.Get<DirectoryRecordStore>().ListTokensAsync(stored.Id, default));
    }

    [Fact]
    public async Task Refuses_a_pulled_directory_without_a_name_and_knows_no_authorization_for_scim_providers()
    {
        var tenant = await TestTenant.CreateAsync(App);
        var provisioning = App.Get<DirectoryProvisioning>();

        var nameless = await provisioning.CreatePulledAsync(new TenantId(tenant.TenantId), "  ",
            provisioning.AuthorizationOf(DirectoryProviders.GoogleDirectory)!, default);

        Assert.Equal((400, "'name' is required and must be at most 200 characters."), (nameless.Error.Status, nameless.Error.Detail));
        Assert.Null(provisioning.AuthorizationOf("okta"));
        Assert.Empty(await App.Get<DirectoryRecordStore>().ListDirectoryIdsAsync(new TenantId(tenant.TenantId), default));
    }
}

/// <summary>Without the SaaS team's Google OAuth client the operation refuses a pulled directory in the API's words.</summary>
public class DirectoryProvisioningUnconfiguredTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task Refuses_a_pulled_directory_while_google_is_not_configured()
    {
        var tenant = await TestTenant.CreateAsync(fixture.App);
        var provisioning = fixture.App.Get<DirectoryProvisioning>();

        var refused = await provisioning.CreatePulledAsync(new TenantId(tenant.TenantId), "Google",
            provisioning.AuthorizationOf(DirectoryProviders.GoogleDirectory)!, default);

        Assert.Equal(400, refused.Error.Status);
        Assert.Contains("Google:ClientId", refused.Error.Detail);
        Assert.Empty(await fixture.App.Get<DirectoryRecordStore>().ListDirectoryIdsAsync(new TenantId(tenant.TenantId), default));
    }
}
