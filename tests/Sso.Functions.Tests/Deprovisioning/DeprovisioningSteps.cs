using System.Net;
using System.Net.Http.Headers;
using Sso.Functions.Connections;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Functions.Storage.Queues;
using Sso.Testing;

namespace Sso.Functions.Tests.Deprovisioning;

/// <summary>What the deprovisioning tests do around the change under test: run the queues, hold a live token, ask userinfo.</summary>
public static class DeprovisioningSteps
{
    /// <summary>Runs queue work until every queue is empty, as the host would keep invoking.</summary>
    public static async Task DrainQueuesAsync(this SsoAppFactory app)
    {
        for (var round = 0; round < 20; round++)
            if (await app.Get<LocalQueueDispatcher>().DrainOnceAsync(default) == 0) return;
        throw new InvalidOperationException("The queues did not settle.");
    }

    /// <summary>An access token of the directory user, as a sign-in would have issued it.</summary>
    public static async Task<string> IssueAccessTokenAsync(this SsoAppFactory app, string tenantId, string userId, string email = "someone@example.com")
    {
        var now = app.Clock.GetUtcNow();
        return await app.Get<AccessTokenStore>().CreateAsync(new IssuedAccessToken(new SignedInUser
        {
            Subject = "sub_" + userId,
            TenantId = new TenantId(tenantId),
            ConnectionId = new ConnectionId("con_" + new string('0', 26)),
            Email = email,
            Role = "member",
            DirectoryUserId = userId,
            AuthTime = now,
        }, new ClientId("cli_" + new string('0', 26)), "openid email", now, now + AccessTokenStore.Lifetime), default);
    }

    public static async Task<HttpStatusCode> UserInfoStatusAsync(this SsoAppFactory app, string accessToken)
    {
        var client = app.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (await client.GetAsync("/oauth/userinfo")).StatusCode;
    }
}
