using System.Diagnostics;
using Sso.Testing;

namespace Sso.Functions.Tests.Oidc;

/// <summary>
/// The npm <c>oidc-provider</c> package (a certified OpenID Provider nobody here wrote), started by
/// tests/peers/oidc-provider-peer.mjs on a free loopback port with one static client. It stops
/// when disposed, or by itself when this process goes away (its stdin closes).
/// </summary>
public sealed class OidcProviderPeer : IAsyncDisposable
{
    private readonly Process _process;

    private OidcProviderPeer(Process process, string issuer)
    {
        _process = process;
        Issuer = issuer;
    }

    public string Issuer { get; }

    public static string Script => Path.Combine(RepositoryPaths.Root, "tests", "peers", "oidc-provider-peer.mjs");

    public static async Task<OidcProviderPeer> StartAsync(string clientId, string clientSecret, string redirectUri,
        string emailDomain, string authMethod = "client_secret_basic", string emailVerified = "true")
    {
        if (!Directory.Exists(Path.Combine(RepositoryPaths.Root, "tests", "peers", "node_modules", "oidc-provider")))
            throw new InvalidOperationException("oidc-provider is not installed under tests/peers; run ./test.sh (scripts/ensure-tools.sh installs it).");
        var port = AzuriteServer.FreePort();
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { Script },
            WorkingDirectory = Path.GetDirectoryName(Script)!,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["OP_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["OP_CLIENT_ID"] = clientId,
                ["OP_CLIENT_SECRET"] = clientSecret,
                ["OP_REDIRECT_URI"] = redirectUri,
                ["OP_EMAIL_DOMAIN"] = emailDomain,
                ["OP_AUTH_METHOD"] = authMethod,
                ["OP_EMAIL_VERIFIED"] = emailVerified,
                ["NODE_ENV"] = "test",
            },
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (errors) errors.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("listening ", StringComparison.Ordinal) == true) listening.TrySetResult(e.Data["listening ".Length..]);
        };
        process.BeginOutputReadLine();
        var started = await Task.WhenAny(listening.Task, Task.Delay(TimeSpan.FromSeconds(30)), process.WaitForExitAsync());
        if (started != listening.Task)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            string log;
            lock (errors) log = errors.ToString();
            throw new InvalidOperationException("oidc-provider did not start: " + log);
        }
        return new OidcProviderPeer(process, await listening.Task);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
        }
        _process.Dispose();
    }
}
