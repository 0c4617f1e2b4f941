using System.Text;
using Sso.Functions.Storage.Secrets;

namespace Sso.Functions.Tests.Storage;

public sealed class LocalSecretStoreTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sso-secret-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Returns_what_was_stored_and_null_for_an_unknown_name()
    {
        var store = new LocalSecretStore(_folder);
        await store.SetAsync("client-secret-1", "s3cr3t value", default);

        Assert.Equal("s3cr3t value", await new LocalSecretStore(_folder).GetAsync("client-secret-1", default));
        Assert.Null(await store.GetAsync("never-stored", default));
    }

    [Fact]
    public async Task Keeps_no_plaintext_on_disk()
    {
        var store = new LocalSecretStore(_folder);
        await store.SetAsync("plain-check", "findable-plaintext", default);

        foreach (var file in Directory.GetFiles(_folder))
            Assert.DoesNotContain("findable-plaintext", Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file)));
    }

    [Fact]
    public async Task Refuses_a_secret_file_moved_under_another_name()
    {
        var store = new LocalSecretStore(_folder);
        await store.SetAsync("first", "one", default);
        await store.SetAsync("second", "two", default);
        File.Copy(Path.Combine(_folder, "first.secret"), Path.Combine(_folder, "second.secret"), overwrite: true);

        await Assert.ThrowsAnyAsync<System.Security.Cryptography.CryptographicException>(() => store.GetAsync("second", default));
    }

    [Fact]
    public async Task Deletes_a_secret()
    {
        var store = new LocalSecretStore(_folder);
        await store.SetAsync("short-lived", "x", default);
        await store.DeleteAsync("short-lived", default);
        Assert.Null(await store.GetAsync("short-lived", default));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("with space")]
    [InlineData("")]
    public async Task Refuses_a_name_that_key_vault_would_refuse(string name)
    {
        var store = new LocalSecretStore(_folder);
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetAsync(name, "x", default));
    }
}
