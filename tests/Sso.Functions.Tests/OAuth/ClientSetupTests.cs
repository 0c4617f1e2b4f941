using Sso.Functions.OAuth;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.OAuth;

/// <summary>The management API's OAuth clients called as an operation, against Azurite.</summary>
public class ClientSetupTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private ClientSetup Setup => fixture.App.Get<ClientSetup>();

    [Fact]
    public async Task Registers_a_client_that_keeps_only_its_secrets_hash_then_reads_and_deletes_it()
    {
        var created = await Setup.CreateAsync(new CreateClientRequest
        {
            Name = "  Product  ",
            RedirectUris = ["https://app.example.com/callback", "https://app.example.com/callback"],
            PostLogoutRedirectUris = ["https://app.example.com/bye"],
        }, default);

        Assert.True(created.IsSuccess, created.ToString());
        var client = created.Value;
        Assert.Equal("Product", client.Name);
        Assert.Equal(["https://app.example.com/callback"], client.RedirectUris);
        var stored = await fixture.App.Get<ClientStore>().FindAsync(new ClientId(client.ClientId), default);
        Assert.True(stored!.SecretMatches(client.ClientSecret));
        Assert.Equal(["https://app.example.com/bye"], stored.PostLogoutRedirectUris);

        var view = await Setup.FindAsync(client.ClientId, default);
        Assert.Equal(client.RedirectUris, view.Value.RedirectUris);

        Assert.True((await Setup.DeleteAsync(client.ClientId, default)).IsSuccess);
        Assert.Equal(404, (await Setup.FindAsync(client.ClientId, default)).Error.Status);
        Assert.Equal(404, (await Setup.FindAsync("not-a-client-id", default)).Error.Status);
        Assert.Equal(404, (await Setup.DeleteAsync("not-a-client-id", default)).Error.Status);
    }

    [Theory]
    [InlineData("", "https://app.example.com/cb", null, "'name' is required and must be at most 200 characters.")]
    [InlineData("Product", null, null, "'redirectUris' must list at least one redirect URI.")]
    [InlineData("Product", "https://app.example.com/cb#frag", null, "redirectUris: ")]
    [InlineData("Product", "https://app.example.com/cb", "javascript:alert(1)", "postLogoutRedirectUris: ")]
    public async Task Refuses_a_request_with_the_APIs_message(string name, string? redirectUri,
        string? postLogoutRedirectUri, string message)
    {
        var refused = await Setup.CreateAsync(new CreateClientRequest
        {
            Name = name,
            RedirectUris = redirectUri is null ? null : [redirectUri],
            PostLogoutRedirectUris = postLogoutRedirectUri is null ? null : [postLogoutRedirectUri],
        }, default);

        Assert.False(refused.IsSuccess);
        Assert.Equal(400, refused.Error.Status);
        Assert.StartsWith(message, refused.Error.Detail);
    }

    [Fact]
    public async Task Refuses_more_redirect_URIs_than_a_client_may_register()
    {
        var refused = await Setup.CreateAsync(new CreateClientRequest
        {
            Name = "Product",
            RedirectUris = Enumerable.Range(0, ClientSetup.MaxRedirectUris + 1).Select(i => $"https://app.example.com/cb{i}").ToArray(),
        }, default);

        Assert.Equal($"A client may register at most {ClientSetup.MaxRedirectUris} redirect URIs.", refused.Error.Detail);
    }
}
