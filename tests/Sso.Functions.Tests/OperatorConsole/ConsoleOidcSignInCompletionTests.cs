using Azure.Data.Tables;
using Sso.Functions.Audit;
using Sso.Functions.OperatorConsole;
using Sso.Functions.Storage;
using Sso.Testing;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>
/// Completing a console OIDC sign-in called as an operation, against Azurite: a refused answer is
/// counted and starts no session. (The allowed operator's whole round trip through the npm
/// oidc-provider is <see cref="ConsoleOidcSignInBrowserTests"/>.)
/// </summary>
public class ConsoleOidcSignInCompletionTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    [Fact]
    public async Task A_callback_this_browser_did_not_start_is_counted_and_starts_no_session()
    {
        var completion = fixture.App.Get<ConsoleOidcSignInCompletion>();
        var sessionsBefore = await SessionRowCountAsync();
        var countedBefore = await CountedAsync();

        var completed = await completion.CompleteAsync(new ConsoleOidcCallback(null, new string('s', 43), [], "", "code-1"), default);

        Assert.False(completed.IsSuccess);
        Assert.Equal((400, "state mismatch"), (completed.Error.Status, completed.Error.Outcome));
        Assert.Equal(countedBefore + 1, await CountedAsync());
        Assert.Equal(sessionsBefore, await SessionRowCountAsync());
    }

    private async Task<long> CountedAsync() =>
        (await fixture.App.Get<RefusalReport>().ReadGlobalAsync(new RefusalQuery(1), default)).Rows
            .Where(r => r["reason"]!.GetValue<string>() == ConsoleOidcSignIn.RefusalReason).Sum(r => r["count"]!.GetValue<long>());

    private async Task<int> SessionRowCountAsync()
    {
        var table = await fixture.App.Get<TableStorage>().GetTableAsync(TableNames.ConsoleSessions, default);
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>()) count++;
        return count;
    }
}
