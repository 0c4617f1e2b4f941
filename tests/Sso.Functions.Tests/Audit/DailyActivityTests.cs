using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Tests.Saml;
using Sso.Functions.Tests.Scim;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

/// <summary>
/// The per-day counts of sign-ins and SCIM requests that the console's overview reads instead of
/// the audit trail, and the trail's result and time filters the console's activity page uses.
/// </summary>
public class DailyActivityTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private SsoAppFactory App => fixture.App;

    private DateOnly Today => DateOnly.FromDateTime(App.Clock.GetUtcNow().UtcDateTime);

    private async Task<IReadOnlyList<DailyActivity>> CountsAsync(string partition)
    {
        await App.FlushAsync();
        return await App.Get<DailyActivityStore>().ReadAsync(partition, Today.AddDays(-13), default);
    }

    private static (long Success, long Failure) On(IEnumerable<DailyActivity> counts, DateOnly day, string type) =>
        counts.Where(c => c.Day == day && c.Type == type).Select(c => (c.Success, c.Failure)).SingleOrDefault();

    private static async Task RefuseOneAsync(SignInFlow flow)
    {
        var (requestId, relayState) = await flow.StartAsync("s", null);
        var wrongAudience = flow.Assertion(requestId) with { SpEntityId = "https://elsewhere.example.test" };
        Assert.Equal("access_denied", SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(wrongAudience), relayState))["error"]);
    }

    [Fact]
    public async Task Counts_sign_ins_and_SCIM_requests_per_tenant_and_day_with_success_and_refusal()
    {
        var flow = await SignInFlow.CreateAsync(App, new JsonObject { ["jitProvisioning"] = true });
        var allBefore = await CountsAsync(DailyActivityStore.AllTenants);
        await flow.SignInAsync();
        await flow.SignInAsync();
        await RefuseOneAsync(flow);
        var directory = await ScimTestDirectory.CreateAsync(App);
        await directory.CreateUserAsync($"dana.{Guid.NewGuid():N}@example.com");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await directory.GetAsync("/Users/nobody")).StatusCode);

        var signIns = await CountsAsync(flow.TenantId);
        Assert.Equal((2, 1), On(signIns, Today, AuditTypes.SignInAttempt));
        Assert.Equal((0, 0), On(signIns, Today, AuditTypes.ScimRequest));
        var scim = await CountsAsync(directory.TenantId);
        Assert.Equal((1, 1), On(scim, Today, AuditTypes.ScimRequest));
        // The sum over tenants grew by at least these (other tests of the class share the app).
        var all = await CountsAsync(DailyActivityStore.AllTenants);
        Assert.True(On(all, Today, AuditTypes.SignInAttempt).Success - On(allBefore, Today, AuditTypes.SignInAttempt).Success >= 2);
        Assert.True(On(all, Today, AuditTypes.ScimRequest).Failure - On(allBefore, Today, AuditTypes.ScimRequest).Failure >= 1);

        // The next day starts at zero; the day before keeps its counts.
        App.Clock.Advance(TimeSpan.FromDays(1));
        await flow.SignInAsync();
        var twoDays = await CountsAsync(flow.TenantId);
        Assert.Equal((2, 1), On(twoDays, Today.AddDays(-1), AuditTypes.SignInAttempt));
        Assert.Equal((1, 0), On(twoDays, Today, AuditTypes.SignInAttempt));
    }

    [Fact]
    public async Task The_trail_filters_by_result_and_time()
    {
        var flow = await SignInFlow.CreateAsync(App, new JsonObject { ["jitProvisioning"] = true });
        await flow.SignInAsync();
        await RefuseOneAsync(flow);
        await App.FlushAsync();
        var trail = App.Get<AuditTrail>();
        var tenantId = (await trail.FindTenantAsync(flow.TenantId, default)).Value;

        async Task<IReadOnlyList<JsonObject>> ReadAsync(string? result = null, string? since = null, string? until = null) =>
            (await trail.ReadAsync(tenantId, AuditTrail.ParseQuery(AuditTypes.SignInAttempt, null, null, result, since, until).Value, default)).Rows;

        var refused = Assert.Single(await ReadAsync(result: "failure"));
        Assert.Equal("idp_response_rejected", refused["reason"]!.GetValue<string>());
        Assert.Equal("success", Assert.Single(await ReadAsync(result: "success"))["result"]!.GetValue<string>());
        var now = App.Clock.GetUtcNow();
        Assert.Equal(2, (await ReadAsync(since: now.AddMinutes(-1).ToString("O"))).Count);
        Assert.Empty(await ReadAsync(since: now.AddMinutes(1).ToString("O")));
        Assert.Empty(await ReadAsync(until: now.AddMinutes(-1).ToString("O")));
        Assert.Equal(2, (await ReadAsync(until: now.AddMinutes(1).ToString("O"))).Count);

        Assert.False(AuditTrail.ParseQuery(null, null, null, result: "maybe").IsSuccess);
        Assert.False(AuditTrail.ParseQuery(null, null, null, since: "yesterday").IsSuccess);
        Assert.Equal("'type' must be one of management.change, signin.attempt, scim.request.",
            AuditTrail.ParseQuery("nope", null, null).Error.Detail);
    }
}
