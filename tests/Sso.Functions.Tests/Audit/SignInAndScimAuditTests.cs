using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Sso.Functions.Audit;
using Sso.Functions.Tests.Saml;
using Sso.Functions.Tests.Scim;
using Sso.Testing;

namespace Sso.Functions.Tests.Audit;

public class SignInAndScimAuditTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private Task<List<JsonObject>> RowsAsync(string tenantId, string type) => AuditTestRows.ReadAllAsync(fixture.App, tenantId, type);

    [Fact]
    public async Task Records_a_successful_sign_in_with_its_connection_and_email_domain_only()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });

        await flow.SignInAsync();

        var row = Assert.Single(await RowsAsync(flow.TenantId, AuditTypes.SignInAttempt));
        Assert.Equal("success", row["result"]!.GetValue<string>());
        Assert.Null(row["reason"]);
        Assert.Equal(flow.ConnectionId, row["connectionId"]!.GetValue<string>());
        Assert.Equal(flow.ClientId, row["clientId"]!.GetValue<string>());
        Assert.Equal(flow.Domain, row["emailDomain"]!.GetValue<string>());
        Assert.Equal(new JsonObject { ["kind"] = "idp", ["id"] = flow.ConnectionId }.ToJsonString(), row["actor"]!.ToJsonString());
        var stored = AuditTestRows.EverythingStored(fixture.App);
        Assert.DoesNotContain(flow.Email, stored);
        Assert.DoesNotContain("SAMLResponse", stored);
    }

    [Fact]
    public async Task Records_a_refused_sign_in_with_the_documented_reason()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App);   // jitProvisioning off, nobody in the directory
        var (requestId, relayState) = await flow.StartAsync("s", null);
        var callback = SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(requestId)), relayState));
        Assert.Equal("access_denied", callback["error"]);

        var row = Assert.Single(await RowsAsync(flow.TenantId, AuditTypes.SignInAttempt));

        Assert.Equal("failure", row["result"]!.GetValue<string>());
        Assert.Equal("user_not_provisioned", row["reason"]!.GetValue<string>());
        Assert.Equal(flow.Domain, row["emailDomain"]!.GetValue<string>());
    }

    [Fact]
    public async Task Records_a_rejected_SAML_response_with_its_failure_kind()
    {
        var flow = await SignInFlow.CreateAsync(fixture.App, new JsonObject { ["jitProvisioning"] = true });
        var (requestId, relayState) = await flow.StartAsync("s", null);
        var wrongAudience = flow.Assertion(requestId) with { SpEntityId = "https://elsewhere.example.test" };
        SignInFlow.CallbackParameters(await flow.PostAcsAsync(flow.Idp.SignedResponse(wrongAudience), relayState));
        // An ACS post with no pending sign-in behind it: no redirect, but the tenant's admin sees it.
        var unsolicited = await flow.PostAcsAsync(flow.Idp.SignedResponse(flow.Assertion(null)), null);
        Assert.Equal(HttpStatusCode.BadRequest, unsolicited.StatusCode);

        var rows = await RowsAsync(flow.TenantId, AuditTypes.SignInAttempt);

        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal("idp_response_rejected", r["reason"]!.GetValue<string>()));
        Assert.Equal("UnsolicitedResponse", rows[0]["failureKind"]!.GetValue<string>());
        Assert.Equal("AudienceMismatch", rows[1]["failureKind"]!.GetValue<string>());
        Assert.Null(rows[0]["clientId"]);
    }

    [Fact]
    public async Task Records_scim_requests_with_status_and_duration_but_no_body_token_or_filter_value()
    {
        var directory = await ScimTestDirectory.CreateAsync(fixture.App);
        var userName = $"bob{Guid.NewGuid():N}"[..12] + "@corp.test";
        var user = $$"""{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{{userName}}","active":true}""";
        Assert.Equal(HttpStatusCode.Created, (await directory.PostAsync("/Users", user)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await directory.PostAsync("/Users", user)).StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await directory.GetAsync($"/Users?filter={Uri.EscapeDataString($"userName eq \"{userName}\"")}&startIndex=1&count=10")).StatusCode);

        var rows = await RowsAsync(directory.TenantId, AuditTypes.ScimRequest);

        Assert.Equal(3, rows.Count);
        var (list, conflict, created) = (rows[0], rows[1], rows[2]);
        Assert.Equal("POST", created["method"]!.GetValue<string>());
        Assert.Equal($"/scim/v2/{directory.DirectoryId}/Users", created["path"]!.GetValue<string>());
        Assert.Equal(201, created["status"]!.GetValue<int>());
        Assert.True(created["durationMs"]!.GetValue<double>() >= 0);
        Assert.Equal(directory.DirectoryId, created["directoryId"]!.GetValue<string>());
        Assert.Equal(directory.TokenId, created["actor"]!["id"]!.GetValue<string>());
        Assert.Equal("POST Users", created["action"]!.GetValue<string>());
        Assert.Equal("failure", conflict["result"]!.GetValue<string>());
        Assert.Equal("uniqueness", conflict["reason"]!.GetValue<string>());
        Assert.Equal($"/scim/v2/{directory.DirectoryId}/Users?filter=userName eq \"…\"&startIndex=1&count=10", list["path"]!.GetValue<string>());
        var stored = AuditTestRows.EverythingStored(fixture.App);
        Assert.DoesNotContain(userName, stored);
        Assert.DoesNotContain(directory.Token, stored);
    }

    [Fact]
    public async Task Records_a_refused_scim_request_under_the_directory_tenant()
    {
        var directory = await ScimTestDirectory.CreateAsync(fixture.App);
        var wrong = fixture.App.CreateAnonymousClient();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "scim_wrong-token-value");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(directory.Base + "/Users")).StatusCode);
        // A directory that does not exist has no tenant to record under.
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/scim/v2/dir_00000000000000000000000000/Users")).StatusCode);

        var row = Assert.Single(await RowsAsync(directory.TenantId, AuditTypes.ScimRequest));

        Assert.Equal(401, row["status"]!.GetValue<int>());
        Assert.Equal("unauthenticated", row["actor"]!["id"]!.GetValue<string>());
        Assert.Equal("failure", row["result"]!.GetValue<string>());
        Assert.DoesNotContain("scim_wrong-token-value", AuditTestRows.EverythingStored(fixture.App));
    }
}
