using System.Security.Cryptography;
using System.Text;

namespace Sso.Functions.Storage.Secrets;

/// <summary>
/// The development secret store: one file per secret, AES-256-GCM encrypted under a master key
/// kept in the same git-ignored folder. It keeps secrets out of tables and out of plain files
/// on disk; it is not a substitute for Key Vault.
/// </summary>
public sealed class LocalSecretStore : ISecretStore
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly string _folder;
    private readonly Lazy<byte[]> _masterKey;

    public LocalSecretStore(string folder)
    {
        _folder = Path.GetFullPath(folder);
        _masterKey = new Lazy<byte[]>(LoadOrCreateMasterKey);
    }

    public async Task<string?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        if (!File.Exists(path)) return null;
        var sealedBytes = await File.ReadAllBytesAsync(path, cancellationToken);
        if (sealedBytes.Length < NonceSize + TagSize)
            throw new CryptographicException($"The local secret '{name}' is damaged.");
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        var tag = sealedBytes.AsSpan(NonceSize, TagSize);
        var cipher = sealedBytes.AsSpan(NonceSize + TagSize);
        var plain = new byte[cipher.Length];
        using var aes = new AesGcm(_masterKey.Value, TagSize);
        aes.Decrypt(nonce, cipher, tag, plain, Encoding.UTF8.GetBytes(name));
        return Encoding.UTF8.GetString(plain);
    }

    public async Task SetAsync(string name, string value, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        var plain = Encoding.UTF8.GetBytes(value);
        var sealedBytes = new byte[NonceSize + TagSize + plain.Length];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, NonceSize));
        using (var aes = new AesGcm(_masterKey.Value, TagSize))
        {
            // The name is associated data, so a file renamed to another secret's name fails to open.
            aes.Encrypt(sealedBytes.AsSpan(0, NonceSize), plain, sealedBytes.AsSpan(NonceSize + TagSize),
                sealedBytes.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(name));
        }
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(temporary, sealedBytes, cancellationToken);
        File.Move(temporary, path, overwrite: true);
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(name));
        return Task.CompletedTask;
    }

    private string PathOf(string name) => Path.Combine(_folder, SecretNames.Require(name) + ".secret");

    private byte[] LoadOrCreateMasterKey()
    {
        Directory.CreateDirectory(_folder);
        var keyPath = Path.Combine(_folder, "master.key");
        if (File.Exists(keyPath)) return File.ReadAllBytes(keyPath);
        var key = RandomNumberGenerator.GetBytes(32);
        try
        {
            using var file = new FileStream(keyPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            file.Write(key);
            return key;
        }
        catch (IOException) when (File.Exists(keyPath))
        {
            // Another process created it first; use theirs.
            return File.ReadAllBytes(keyPath);
        }
    }
}
