using Sso.Functions.Audit;
using Sso.Functions.OperatorConsole;
using Sso.Testing;

namespace Sso.Functions.Tests.OperatorConsole;

/// <summary>A console session's life (<see cref="ConsoleSessions"/>) called as an operation, on the fake clock, against Azurite.</summary>
public class ConsoleSessionsTests(SsoAppFixture fixture) : IClassFixture<SsoAppFixture>
{
    private ConsoleSessions Sessions => fixture.App.Get<ConsoleSessions>();
    private ConsoleSessionStore Store => fixture.App.Get<ConsoleSessionStore>();

    [Fact]
    public async Task A_started_session_opens_records_activity_after_the_touch_interval_and_ends_when_idle()
    {
        var started = await Sessions.StartAsync(AuditActor.Operator("key_sessions"), "admin_key", default);

        var opened = await Sessions.OpenAsync(started.Id, default);
        Assert.NotNull(opened);
        Assert.Equal("key_sessions", opened.Operator.Id);
        Assert.Equal(ConsoleSession.CsrfTokenOf(started.Id), opened.CsrfToken);

        fixture.App.Clock.Advance(ConsoleSession.TouchInterval);
        Assert.NotNull(await Sessions.OpenAsync(started.Id, default));
        var touched = await Store.FindAsync(started.Session.IdHash, default);
        Assert.Equal(fixture.App.Clock.GetUtcNow(), touched!.LastSeenAt);

        fixture.App.Clock.Advance(ConsoleSession.IdleLifetime);
        Assert.Null(await Sessions.OpenAsync(started.Id, default));
    }

    [Fact]
    public async Task An_ended_session_and_an_unknown_id_open_nothing()
    {
        var started = await Sessions.StartAsync(AuditActor.Operator("key_ended"), "admin_key", default);

        await Sessions.EndAsync(started.Session, default);

        Assert.Null(await Store.FindAsync(started.Session.IdHash, default));
        Assert.Null(await Sessions.OpenAsync(started.Id, default));
        Assert.Null(await Sessions.OpenAsync(ConsoleSession.NewId().Id, default));
    }
}
