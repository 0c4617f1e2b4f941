using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Saml;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Secrets;
using Sso.Functions.Tenants;
using Sso.Testing;

namespace Sso.Functions.Tests.Connections;

/// <summary>
/// <see cref="ConnectionSetup"/> called as the setup portal and the console call it: from DI,
/// with typed inputs, answering a problem value (the API's own words) instead of HTTP.
/// </summary>
public class ConnectionSetupTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private async Task<Tenant> TenantAsync()
    {
        var created = await TestTenant.CreateAsync(App);
        return (await App.Get<TenantStore>().FindAsync(new TenantId(created.TenantId), default))!;
    }

    private static JsonObject SamlBody(SamlTestIdp idp) => new()
    {
        ["type"] = "saml",
        ["idpEntityId"] = SamlTestIdp.EntityId,
        ["idpSsoUrl"] = SamlTestIdp.SsoUrl,
        ["idpCertificates"] = new JsonArray(idp.CertificatePem),
    };

    [Fact]
    public async Task Creates_a_SAML_connection_under_the_reserved_id_with_its_SP_keys_and_the_setup_link()
    {
        var tenant = await TenantAsync();
        var reserved = ConnectionId.New();

        var created = await App.Get<ConnectionSetup>().CreateAsync(tenant, SamlBody(new SamlTestIdp()), default,
            reservedSamlId: reserved, setupLinkId: "stl_operation");

        Assert.True(created.IsSuccess, created.ToString());
        Assert.Equal(reserved, created.Value.Id);
        var stored = await App.Get<ConnectionStore>().FindAsync(tenant.Id, reserved, default);
        Assert.NotNull(stored);
        Assert.Equal("stl_operation", stored.SetupLinkId);
        Assert.True(stored.AwaitsConfirmation);
        Assert.NotNull(await App.Get<ISecretStore>().GetAsync(SamlServiceProviderKeys.SecretName(reserved), default));
    }

    [Fact]
    public async Task Refuses_a_bad_body_with_the_API_problem_and_stores_nothing()
    {
        var tenant = await TenantAsync();
        var setup = App.Get<ConnectionSetup>();

        var noType = await setup.CreateAsync(tenant, new JsonObject { ["idpEntityId"] = "x" }, default);
        var badSkew = SamlBody(new SamlTestIdp());
        badSkew["clockSkewSeconds"] = 6000;
        var tooSkewed = await setup.CreateAsync(tenant, badSkew, default);

        Assert.False(noType.IsSuccess);
        Assert.Equal((400, "validation-failed", "'type' must be \"saml\" or \"oidc\"."),
            (noType.Error.Status, noType.Error.Code, noType.Error.Detail));
        Assert.False(tooSkewed.IsSuccess);
        Assert.Equal("'clockSkewSeconds' must be a whole number from 0 to 600.", tooSkewed.Error.Detail);
        Assert.Empty(await App.Get<ConnectionStore>().ListAsync(tenant.Id, default));
    }

    [Fact]
    public async Task Updates_confirms_and_deletes_a_connection_and_answers_not_found_after()
    {
        var tenant = await TenantAsync();
        var setup = App.Get<ConnectionSetup>();
        var created = (await setup.CreateAsync(tenant, SamlBody(new SamlTestIdp()), default, setupLinkId: "stl_confirm")).Value;

        var renamed = await setup.UpdateAsync(tenant.Id, created.Id, new JsonObject { ["name"] = " Okta " }, default);
        var confirmed = await setup.ConfirmAsync(tenant.Id, created.Id, default);
        var deleted = await setup.DeleteAsync(tenant.Id, created.Id, default);
        var again = await setup.DeleteAsync(tenant.Id, created.Id, default);

        Assert.Equal("Okta", renamed.Value.Name);
        Assert.Equal(App.Clock.GetUtcNow(), confirmed.Value.ConfirmedAt);
        Assert.False(confirmed.Value.AwaitsConfirmation);
        Assert.Equal(created.Id, deleted.Value.Id);
        Assert.Null(await App.Get<ConnectionStore>().FindAsync(tenant.Id, created.Id, default));
        Assert.Null(await App.Get<ISecretStore>().GetAsync(SamlServiceProviderKeys.SecretName(created.Id), default));
        Assert.Equal((404, "not-found"), (again.Error.Status, again.Error.Code));
    }

    [Fact]
    public async Task Refuses_to_refresh_a_connection_without_a_metadata_url()
    {
        var tenant = await TenantAsync();
        var setup = App.Get<ConnectionSetup>();
        var created = (await setup.CreateAsync(tenant, SamlBody(new SamlTestIdp()), default)).Value;

        var refreshed = await setup.RefreshMetadataAsync(tenant.Id, created.Id, default);

        Assert.Equal("Only a SAML connection set up from 'idpMetadataUrl' has metadata to refresh.", refreshed.Error.Detail);
        Assert.Null(await setup.RefreshStoredMetadataAsync(created, default));
    }
}
