using Sso.Functions.Audit;

namespace Sso.Functions.OperatorConsole;

/// <summary>A session just started: its id (for the cookie only, never stored) and its row.</summary>
public sealed record StartedConsoleSession(string Id, ConsoleSession Session);

/// <summary>
/// A console session's life (<see cref="ConsoleSessionGate"/> carries the id in a cookie): started
/// with a row that holds only the id's hash, opened while live (activity recorded every
/// <see cref="ConsoleSession.TouchInterval"/>), ended by deleting the row. No HTTP.
/// </summary>
public sealed partial class ConsoleSessions(ConsoleSessionStore sessions, TimeProvider clock, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger("Sso.Functions.OperatorConsole");

    public async Task<StartedConsoleSession> StartAsync(AuditActor operatorActor, string method, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var (id, idHash) = ConsoleSession.NewId();
        var session = new ConsoleSession { IdHash = idHash, Operator = operatorActor, Method = method, CreatedAt = now, LastSeenAt = now };
        await sessions.CreateAsync(session, cancellationToken);
        return new StartedConsoleSession(id, session);
    }

    /// <summary>The operator of a live session with this id; null for an unknown, expired or idle one.</summary>
    public async Task<SignedInOperator?> OpenAsync(string id, CancellationToken cancellationToken)
    {
        if (await sessions.FindAsync(ConsoleSession.HashOf(id), cancellationToken) is not { } session) return null;
        var now = clock.GetUtcNow();
        if (!session.IsLive(now))
        {
            LogSessionEnded(_logger, session.Operator.Id, now >= session.ExpiresAt ? "expired" : "idle");
            return null;
        }
        if (now - session.LastSeenAt >= ConsoleSession.TouchInterval) await sessions.TouchAsync(session, now, cancellationToken);
        return new SignedInOperator(session, session.Operator, ConsoleSession.CsrfTokenOf(id));
    }

    public Task EndAsync(ConsoleSession session, CancellationToken cancellationToken) => sessions.DeleteAsync(session.IdHash, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Console session of {OperatorId} ended: {Outcome}")]
    private static partial void LogSessionEnded(ILogger logger, string operatorId, string outcome);
}
