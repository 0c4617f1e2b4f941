using Sso.Functions.Storage;
namespace Sso.Functions.OAuth;

/// <summary>
/// The sign-in policy's view of the tenant's SCIM directories: the user whose userName or
/// primary email equals the asserted email (case-insensitive), if any.
/// </summary>
public sealed class SignInDirectory(IServiceProvider services)
{
    public Task<DirectoryUserView?> FindUserByEmailAsync(TenantId tenantId, string email, CancellationToken cancellationToken)
    {
        _ = services;
        _ = tenantId;
        _ = email;
        _ = cancellationToken;
        // The directory store (SCIM) has not landed in this branch: no tenant has a directory
        // user yet, so the policy sees none (jitProvisioning decides).
        return Task.FromResult<DirectoryUserView?>(null);
    }
}
