using Sso.Functions.Audit;
using Sso.Functions.Hosting;

namespace Sso.Functions.OperatorConsole;

/// <summary>An operator signed in through the team's IdP: the session just started, and who they are.</summary>
public sealed record ConsoleOidcSignedIn(StartedConsoleSession Started, ConsoleOidcOperator Operator);

/// <summary>
/// Completing a console sign-in through the team's IdP (<see cref="ConsoleOidcSignIn"/> writes the
/// HTTP): the IdP's answer checked by <see cref="ConsoleOidcAuthentication"/>, then a session started
/// and audited; a refused answer is counted and starts nothing.
/// </summary>
public sealed class ConsoleOidcSignInCompletion(ConsoleOidcAuthentication authentication, RefusalCounter refusals, ConsoleSessions sessions,
    AuditLog audit, ILoggerFactory loggers)
{
    public const string Method = "oidc";

    // The audit row records the status of the console's answer: a page that moves on (a redirect would lose the Strict cookie).
    private const int AnsweredStatus = 200;

    private readonly ILogger _logger = loggers.CreateLogger("Sso.Functions.OperatorConsole");

    public ConsoleOidcOptions Options => authentication.Options;

    public async Task<Result<ConsoleOidcSignedIn, ConsoleSignInRefusal>> CompleteAsync(ConsoleOidcCallback callback, CancellationToken cancellationToken)
    {
        var completed = await authentication.CompleteAsync(callback, cancellationToken);
        if (!completed.TryGetValue(out var signedIn, out var refused))
        {
            refusals.Count(AuditRecord.GlobalPartition, ConsoleOidcSignIn.RefusalReason);
            ConsoleSignIn.LogSignInRefused(_logger, "oidc: " + refused.Outcome);
            return refused;
        }
        var actor = AuditActor.Operator(signedIn.Email.ToLowerInvariant());
        var started = await sessions.StartAsync(actor, Method, cancellationToken);
        await audit.RecordChangeAsync(null, actor, "console_session.create", null, [], "success", null, AnsweredStatus);
        ConsoleSignIn.LogSignedIn(_logger, "sub:" + ConsoleOidcAuthentication.HashOf(signedIn.Subject)[..12], Method);
        return new ConsoleOidcSignedIn(started, signedIn);
    }
}
