using System.Security.Cryptography;
using Sso.Functions.OAuth;
using Sso.Functions.Storage.Secrets;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

public class TokenSigningKeysTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task Creates_the_signing_key_in_the_secret_store_on_first_start()
    {
        var stored = await fixture.App.Get<ISecretStore>().GetAsync(TokenSigningKeys.SecretName, default);
        Assert.NotNull(stored);
        var key = await fixture.App.Get<TokenSigningKeys>().GetCurrentAsync(default);
        Assert.Contains(key.Kid, stored);
        Assert.True(key.Rsa.KeySize >= 2048);
    }

    [Fact]
    public async Task Keeps_the_previous_key_after_a_rotation()
    {
        var folder = Path.Combine(Path.GetTempPath(), "sso-keys-" + Guid.NewGuid().ToString("N"));
        var keys = new TokenSigningKeys(new LocalSecretStore(folder), TimeProvider.System);
        var first = await keys.GetCurrentAsync(default);

        var second = await keys.RotateAsync(keepPrevious: 1, default);

        var ring = await keys.GetAsync(default);
        Assert.Equal([second.Kid, first.Kid], ring.Select(k => k.Kid));
        var data = "payload"u8.ToArray();
        var signature = ring[1].Rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.True(first.Rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Directory.Delete(folder, true);
    }
}
