using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sso.Functions.OAuth;
using Sso.Functions.Tenants;
using Sso.Functions.Tests.Saml;
using Sso.Testing;

namespace Sso.Functions.Tests.Tenants;

/// <summary>
/// The sign-in policy judges an asserted email's domain by its claim row, cached per instance for
/// <see cref="TenantStore.CacheFor"/> like the tenant row it is judged with (*Caching*). Two
/// instances of one deployment: a domain released on A is refused on A at once; B, which had the
/// claim cached, still admits it and refuses once the clock passes the cache's bound.
/// </summary>
public sealed class DomainClaimCacheTests : IAsyncLifetime
{
    private TwoInstances _apps = null!;
    private SsoAppFactory _a = null!;
    private SsoAppFactory _b = null!;

    public async Task InitializeAsync()
    {
        _apps = await TwoInstances.StartAsync();
        (_a, _b) = (_apps.A, _apps.B);
    }

    public Task DisposeAsync() => _apps.DisposeAsync().AsTask();

    [Fact]
    public void Caches_claims_no_longer_than_the_tenant_row() =>
        Assert.InRange(TenantStore.CacheFor, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_released_domain_is_refused_at_once_where_it_was_released_and_within_the_cache_bound_elsewhere()
    {
        // Just-in-time provisioning: the user signs in without a directory.
        var onA = await SignInFlow.CreateAsync(_a, new JsonObject { ["jitProvisioning"] = true });
        var onB = onA.On(_b);
        await onB.SignInAsync("warm-b");   // B now holds the tenant and the claim

        var (requestA, relayA) = await onA.StartAsync("a", SignInFlow.NewPkce().Challenge);
        var (requestB1, relayB1) = await onB.StartAsync("b1", SignInFlow.NewPkce().Challenge);
        var (requestB2, relayB2) = await onB.StartAsync("b2", SignInFlow.NewPkce().Challenge);

        var patched = await onA.Admin.PatchAsync($"/api/v1/tenants/{onA.TenantId}",
            JsonContent.Create(new JsonObject { ["domains"] = new JsonArray(TestTenant.UniqueDomain()) }));
        Assert.True(patched.StatusCode == HttpStatusCode.OK, await patched.Content.ReadAsStringAsync());

        var refusedOnA = SignInFlow.CallbackParameters(await onA.PostAcsAsync(onA.Idp.SignedResponse(onA.Assertion(requestA)), relayA));
        Assert.Equal(SignInRefusals.EmailOutsideTenantDomains, refusedOnA["error_description"]);

        var admittedOnB = SignInFlow.CallbackParameters(await onB.PostAcsAsync(onB.Idp.SignedResponse(onB.Assertion(requestB1)), relayB1));
        Assert.True(admittedOnB.ContainsKey("code"), string.Join("&", admittedOnB));

        _a.Clock.Advance(TenantStore.CacheFor);
        var refusedOnB = SignInFlow.CallbackParameters(await onB.PostAcsAsync(onB.Idp.SignedResponse(onB.Assertion(requestB2)), relayB2));
        Assert.Equal(SignInRefusals.EmailOutsideTenantDomains, refusedOnB["error_description"]);
    }
}
