using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sso.Functions.Connections;
using Sso.Functions.Hosting;
using Sso.Functions.OAuth;
using Sso.Functions.Storage;

namespace Sso.Functions.Setup;

/// <summary>Why a Test sign-in step did nothing.</summary>
public enum SetupTestRefusal
{
    /// <summary>The link has no saved connection (or no single sign-on).</summary>
    NoConnection,

    /// <summary>The answer does not carry the state of the test this link started.</summary>
    WrongState,

    /// <summary>The link changed in another window (or is gone) while it was saved.</summary>
    LinkChanged,
}

/// <summary>
/// The setup portal's Test sign-in without HTTP (<see cref="SetupTestSignIn"/> is its adapter):
/// start a real sign-in through the link's connection for the tenant's internal portal client,
/// and finish it by redeeming the code at once and keeping what the IdP sent on the link.
/// </summary>
public sealed class SetupTestSignInFlow(SetupLinkStore links, ConnectionStore connections, ClientStore clients,
    AuthorizationCodeStore codes, SignInStarters starters, SsoOptions options, TimeProvider clock)
{
    /// <summary>Where the browser goes next (the IdP, or the OAuth error back to the callback), with the link's pending test recorded.</summary>
    public async Task<Result<Result<IdpRequest, SignInCompletion>, SetupTestRefusal>> StartAsync(SetupLink link,
        CancellationToken cancellationToken)
    {
        var connection = link.Has(SetupFeatures.Sso) && link.ConnectionId is { } id
            ? await connections.FindAsync(link.TenantId, id, cancellationToken)
            : null;
        if (connection is null) return SetupTestRefusal.NoConnection;

        var clientId = await PortalClientAsync(link.TenantId, cancellationToken);
        var state = Base64Url.Encode(RandomNumberGenerator.GetBytes(32));
        if (await links.UpdateAsync(link, l => l with { PendingTestStateHash = StateHash(state) }, cancellationToken) is null)
            return SetupTestRefusal.LinkChanged;

        var now = clock.GetUtcNow();
        var pending = new PendingSignIn
        {
            Handle = PendingSignIn.NewHandle(connection.Id),
            ClientId = clientId,
            RedirectUri = options.Url(SetupTestSignIn.CallbackPath),
            State = state,
            Scope = "openid email profile",
            TenantId = connection.TenantId,
            ConnectionId = connection.Id,
            CreatedAt = now,
            ExpiresAt = now + PendingSignIn.Lifetime,
        };
        return await starters.StartAsync(pending, connection, cancellationToken);
    }

    /// <summary>
    /// The callback's answer (<paramref name="state"/> and either <paramref name="code"/> or
    /// <paramref name="error"/>): the link with its <see cref="SetupLink.LastTest"/> saved and
    /// no test pending. A code that is unknown, used, expired or not this tenant's is a failed test.
    /// </summary>
    public async Task<Result<SetupLink, SetupTestRefusal>> FinishAsync(SetupLink link, string state, string code, string error,
        string errorDescription, CancellationToken cancellationToken)
    {
        if (link.PendingTestStateHash is not { } expected
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(StateHash(state))))
            return SetupTestRefusal.WrongState;

        var now = clock.GetUtcNow();
        var result = new JsonObject { ["at"] = now.ToString("O") };
        if (error.Length > 0)
        {
            result["outcome"] = "failure";
            result["error"] = error;
            result["errorDescription"] = errorDescription;
        }
        else
        {
            var clientId = await links.FindPortalClientAsync(link.TenantId, cancellationToken);
            var taken = clientId is { } id ? await codes.TakeAsync(id, code, cancellationToken) : null;
            if (taken is null || taken.ExpiresAt <= now || taken.RedirectUri != options.Url(SetupTestSignIn.CallbackPath)
                || taken.User.TenantId != link.TenantId)
            {
                result["outcome"] = "failure";
                result["error"] = "invalid_grant";
                result["errorDescription"] = "The sign-in finished, but its authorization code was not valid any more.";
            }
            else
            {
                result["outcome"] = "success";
                result["user"] = taken.User.ToJson();
            }
        }
        var saved = await links.UpdateAsync(link, l => l with { PendingTestStateHash = null, LastTest = result }, cancellationToken);
        return saved is null ? SetupTestRefusal.LinkChanged : saved;
    }

    /// <summary>The tenant's internal OAuth client for Test sign-in, made on first use; its secret is never kept.</summary>
    private async Task<ClientId> PortalClientAsync(TenantId tenantId, CancellationToken cancellationToken)
    {
        if (await links.FindPortalClientAsync(tenantId, cancellationToken) is { } existing) return existing;
        var client = new OAuthClient(ClientId.New(), "Setup portal test sign-in", [options.Url(SetupTestSignIn.CallbackPath)],
            OAuthClient.HashSecret(OAuthClient.NewSecret()), clock.GetUtcNow());
        // Order: the client, then the tenant's pointer to it; of two racing requests the second
        // removes its own client and uses the first one's.
        await clients.CreateAsync(client, cancellationToken);
        if (await links.TryAddPortalClientAsync(tenantId, client.Id, cancellationToken)) return client.Id;
        await clients.DeleteAsync(client.Id, cancellationToken);
        return await links.FindPortalClientAsync(tenantId, cancellationToken) ?? throw new InvalidOperationException("The portal client vanished.");
    }

    private static string StateHash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
