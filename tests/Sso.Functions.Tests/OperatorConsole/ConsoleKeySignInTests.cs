using Sso.Functions.Audit;
using Sso.Functions.OperatorConsole;
using Sso.Testing;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>Signing in to the console with an admin key called as an operation, with no HTTP request around it, against Azurite.</summary>
public class ConsoleKeySignInTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private ConsoleKeySignIn SignIn => fixture.App.Get<ConsoleKeySignIn>();

    [Fact]
    public async Task An_admin_key_starts_a_session_stored_by_its_hash_and_audits_it()
    {
        var signedIn = await SignIn.SignInAsync(SsoAppFactory.AdminKey, default);

        Assert.True(signedIn.IsSuccess, signedIn.ToString());
        var started = signedIn.Value;
        Assert.Equal(ConsoleSession.HashOf(started.Id), started.Session.IdHash);
        var stored = await fixture.App.Get<ConsoleSessionStore>().FindAsync(ConsoleSession.HashOf(started.Id), default);
        Assert.NotNull(stored);
        Assert.Equal("operator", stored.Operator.Kind);
        Assert.StartsWith("key_", stored.Operator.Id);
        Assert.Equal("admin_key", stored.Method);
        Assert.True(stored.IsLive(fixture.App.Clock.GetUtcNow()));

        await fixture.App.FlushAsync();
        var trail = await fixture.App.Get<AuditTrail>().ReadGlobalAsync(new AuditQuery(null, null, null, null, null, 200), default);
        var row = Assert.Single(trail.Rows, r => r["action"]?.GetValue<string>() == "console_session.create"
            && r["actor"]!["id"]!.GetValue<string>() == stored.Operator.Id);
        Assert.Equal(303, row["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task Another_key_starts_no_session_and_is_counted_as_a_refusal()
    {
        var before = await CountedAsync();

        var signedIn = await SignIn.SignInAsync("not-the-key", default);

        Assert.False(signedIn.IsSuccess);
        Assert.Equal(401, signedIn.Error.Status);
        Assert.Contains("not an admin key", signedIn.Error.Message);
        Assert.Equal(before + 1, await CountedAsync());
    }

    private async Task<long> CountedAsync() =>
        (await fixture.App.Get<RefusalReport>().ReadGlobalAsync(new RefusalQuery(1), default)).Rows
            .Where(r => r["reason"]!.GetValue<string>() == ConsoleSignIn.RefusalReason).Sum(r => r["count"]!.GetValue<long>());
}
