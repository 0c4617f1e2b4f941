using Sso.Functions.Audit;
using Sso.Functions.Hosting;

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

/// <summary>
/// Signing in to the console with an admin key (<see cref="ConsoleSignIn"/> writes the HTTP): a key
/// of this service starts a session and audits it; any other is counted as a refusal. The key is
/// never stored or logged.
/// </summary>
public sealed partial class ConsoleKeySignIn(AdminKeys keys, RefusalCounter refusals, ConsoleSessionStart sessions, AuditLog audit,
    ILoggerFactory loggers)
{
    public const string Method = "admin_key";

    // The audit row records the status of the console's answer to a sign-in: the redirect to the page asked for.
    private const int AnsweredStatus = 303;

    private readonly ILogger _logger = loggers.CreateLogger("Sso.Functions.OperatorConsole");

    public async Task<Result<StartedConsoleSession, ConsoleSignInRefusal>> SignInAsync(string presentedKey, CancellationToken cancellationToken)
    {
        if (keys.AuthenticateKey(presentedKey) is not { } keyId)
        {
            refusals.Count(AuditRecord.GlobalPartition, ConsoleSignIn.RefusalReason);
            ConsoleSignIn.LogSignInRefused(_logger, "unknown admin key");
            return new ConsoleSignInRefusal(401, "That is not an admin key of this service. Paste the whole key (SSO_ADMIN_KEY or one of Admin:ApiKeys).",
                "unknown admin key");
        }
        var actor = AuditActor.Operator(keyId);
        var started = await sessions.StartAsync(actor, Method, cancellationToken);
        await audit.RecordChangeAsync(null, actor, "console_session.create", null, [], "success", null, AnsweredStatus);
        ConsoleSignIn.LogSignedIn(_logger, keyId, Method);
        return started;
    }
}

/// <summary>An operator signed in through the team's IdP: the session just started, and who they are.</summary>
public sealed record ConsoleOidcSignedIn(StartedConsoleSession Started, ConsoleOidcOperator Operator);

/// <summary>
/// Completing a console sign-in through the team's IdP (<see cref="ConsoleOidcSignIn"/> writes the
/// HTTP): the IdP's answer checked by <see cref="ConsoleOidcAuthentication"/>, then a session started
/// and audited; a refused answer is counted and starts nothing.
/// </summary>
public sealed class ConsoleOidcSignInCompletion(ConsoleOidcAuthentication authentication, RefusalCounter refusals, ConsoleSessionStart sessions,
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
