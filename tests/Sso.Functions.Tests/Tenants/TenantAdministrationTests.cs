using Sso.Functions.Storage;
using Sso.Functions.Tenants;
using Sso.Testing;

namespace Sso.Functions.Tests.Tenants;

/// <summary>Deleting a tenant called as an operation, with no HTTP request of ours around it.</summary>
public class TenantAdministrationTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private TenantAdministration Administration => fixture.App.Get<TenantAdministration>();

    [Fact]
    public async Task DeleteAsync_removes_the_tenant_row()
    {
        var tenant = await TestTenant.CreateAsync(fixture.App, domain: TestTenant.UniqueDomain());
        var tenantId = new TenantId(tenant.TenantId);

        var deleted = await Administration.DeleteAsync(tenantId, default);

        Assert.True(deleted.IsSuccess, deleted.ToString());
        Assert.Equal(tenantId, deleted.Value);
        Assert.Null(await fixture.App.Get<TenantStore>().FindAsync(tenantId, default));
    }

    [Fact]
    public async Task DeleteAsync_refuses_a_tenant_that_does_not_exist_with_404()
    {
        var unknown = TenantId.New();

        var deleted = await Administration.DeleteAsync(unknown, default);

        Assert.False(deleted.IsSuccess);
        Assert.Equal(404, deleted.Error.Status);
        Assert.Contains(unknown.Value, deleted.Error.Detail);
    }
}
