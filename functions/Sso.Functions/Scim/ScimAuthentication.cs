using System.Security.Cryptography;
using System.Text;
using Sso.Functions.DirectorySync;
using Sso.Functions.Hosting;
using Sso.Protocols.Scim;

namespace Sso.Functions.Scim;

/// <summary>The directory a SCIM request reached, once its bearer token proved it may.</summary>
public sealed record ScimRequestContext(DirectoryRecord Directory, string BaseUrl);

/// <summary>
/// SCIM bearer authentication (DESIGN.md §3.3): the token is hashed and looked up by its hash in the
/// partition of the directory in the URL, so a token of another directory is simply not there;
/// a revoked token's hash row is gone, and an expired one carries its expiry. The stored hash is compared in constant time as well.
/// A match is cached in the instance for a few seconds (<see cref="DirectoryRecordStore.CredentialCacheFor"/>),
/// so an IdP's burst costs no token or directory read; the expiry is checked on every request.
/// </summary>
public static class ScimAuthentication
{
    public static readonly TimeSpan LastUsedGranularity = TimeSpan.FromMinutes(1);

    public static Func<HttpContext, Task<IResult>> Require(Func<HttpContext, ScimRequestContext, Task<IResult>> handler) => async context =>
    {
        var authenticated = await AuthenticateAsync(context);
        if (!authenticated.IsSuccess) return ScimResults.Error(authenticated.Error);
        context.Items[RequestPipeline.TenantItem] = authenticated.Value.Directory.TenantId.Value;
        return await handler(context, authenticated.Value);
    };

    private static async Task<Result<ScimRequestContext, ScimError>> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return ScimError.Unauthorized("Send the directory's SCIM token as 'Authorization: Bearer <token>'.");
        var presented = header["Bearer ".Length..].Trim();
        if (presented.Length is 0 or > 512 || !DirectoryId.TryParse(context.RouteString("directoryId"), out var directoryId))
            return ScimError.Unauthorized();

        var store = context.RequestServices.GetRequiredService<DirectoryRecordStore>();
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        // Cached for at most DirectoryRecordStore.CredentialCacheFor, dropped at once here on revoke or purge.
        var credential = await store.FindCredentialAsync(directoryId, hash, context.RequestAborted);
        if (credential is null || !CryptographicOperations.FixedTimeEquals(hash, credential.Token.Hash)) return ScimError.Unauthorized();
        // An expired token is refused exactly like a revoked one: the IdP learns nothing more.
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (credential.Token.ExpiresAt is { } expiresAt && now >= expiresAt) return ScimError.Unauthorized();
        context.Items[Audit.AuditLog.ScimTokenIdItem] = credential.Token.TokenId;

        if (credential.ClaimTouch(now, LastUsedGranularity)) store.TouchTokenInBackground(directoryId, credential.Token, now);
        var directory = credential.Directory;

        var options = context.RequestServices.GetRequiredService<SsoOptions>();
        return new ScimRequestContext(directory, DirectoryEndpoints.ScimBaseUrl(options, directoryId));
    }
}
