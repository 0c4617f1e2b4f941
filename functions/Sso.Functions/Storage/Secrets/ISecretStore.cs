namespace Sso.Functions.Storage.Secrets;

/// <summary>
/// Private keys and client secrets. Key Vault in Azure, an encrypted folder locally. Names are
/// Key Vault secret names: letters, digits and '-', at most 127 characters.
/// </summary>
public interface ISecretStore
{
    Task<string?> GetAsync(string name, CancellationToken cancellationToken);

    Task SetAsync(string name, string value, CancellationToken cancellationToken);

    Task DeleteAsync(string name, CancellationToken cancellationToken);
}

public static class SecretNames
{
    public static bool IsValid(string name) =>
        name.Length is >= 1 and <= 127 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public static string Require(string name) =>
        IsValid(name) ? name : throw new ArgumentException($"'{name}' is not a valid secret name.", nameof(name));
}
