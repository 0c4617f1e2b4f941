using Azure.Core;
using Azure.Identity;

namespace Sso.Functions.Storage;

public static class AzureCredentials
{
    /// <summary>
    /// The user-assigned managed identity when <c>ManagedIdentity:ClientId</c> is set (the Bicep
    /// deployment sets it), else the default chain (developer sign-in for manual runs against Azure).
    /// </summary>
    public static TokenCredential From(IConfiguration configuration)
    {
        // A token request that hangs holds every call that needs a token: same budget as Key Vault.
        var retry = AzureRetryOptions.ForSecrets(configuration);
        return configuration["ManagedIdentity:ClientId"] is { Length: > 0 } clientId
            ? new ManagedIdentityCredential(retry.Apply(new ManagedIdentityCredentialOptions(ManagedIdentityId.FromUserAssignedClientId(clientId))))
            : new DefaultAzureCredential(retry.Apply(new DefaultAzureCredentialOptions()));
    }
}
