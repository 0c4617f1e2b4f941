using Sso.Functions.Audit;
using Sso.Functions.Hosting;

namespace Sso.Functions.OperatorConsole;

/// <summary>
/// Signing in to the console with an admin key (<see cref="ConsoleSignIn"/> writes the HTTP): a key
/// of this service starts a session and audits it; any other is counted as a refusal. The key is
/// never stored or logged.
/// </summary>
public sealed partial class ConsoleKeySignIn(AdminKeys keys, RefusalCounter refusals, ConsoleSessions sessions, AuditLog audit,
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
