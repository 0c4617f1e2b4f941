using Sso.Functions.Audit;

namespace Sso.Functions.OperatorConsole;

/// <summary>A session just started: its id (for the cookie only, never stored) and its row.</summary>
public sealed record StartedConsoleSession(string Id, ConsoleSession Session);

/// <summary>Starting a console session: the row holds the id's hash; the id goes back to the caller for the cookie.</summary>
public sealed class ConsoleSessionStart(ConsoleSessionStore sessions, TimeProvider clock)
{
    public async Task<StartedConsoleSession> StartAsync(AuditActor operatorActor, string method, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var (id, idHash) = ConsoleSession.NewId();
        var session = new ConsoleSession { IdHash = idHash, Operator = operatorActor, Method = method, CreatedAt = now, LastSeenAt = now };
        await sessions.CreateAsync(session, cancellationToken);
        return new StartedConsoleSession(id, session);
    }
}
