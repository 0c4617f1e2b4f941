using Azure;
using Azure.Core;
using Azure.Security.KeyVault.Secrets;

namespace Sso.Functions.Storage.Secrets;

/// <summary>Secrets in Azure Key Vault (RBAC: the app's identity is Key Vault Secrets Officer).</summary>
public sealed class KeyVaultSecretStore(Uri vaultUri, TokenCredential credential, SecretClientOptions? options = null) : ISecretStore
{
    private readonly SecretClient _client = new(vaultUri, credential, options ?? new SecretClientOptions());

    public async Task<string?> GetAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var secret = await _client.GetSecretAsync(SecretNames.Require(name), cancellationToken: cancellationToken);
            return secret.Value.Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken) =>
        await _client.SetSecretAsync(SecretNames.Require(name), value, cancellationToken);

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await _client.StartDeleteSecretAsync(SecretNames.Require(name), cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }
}
