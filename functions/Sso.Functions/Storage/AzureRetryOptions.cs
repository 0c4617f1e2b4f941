using Azure.Core;

namespace Sso.Functions.Storage;

/// <summary>
/// The retry budget of one Azure SDK client: how long one try may wait for an answer and how
/// many tries follow a failed one. The SDK's own default (100 s per try, 3 retries) lets a hung
/// backend hold a request for minutes; with these a request sees a hang within seconds and the
/// request deadline (<c>Hosting:RequestTimeoutSeconds</c>) answers 503 in time.
/// </summary>
public sealed record AzureRetryOptions(TimeSpan TryTimeout, int MaxRetries)
{
    // Backoff between tries: short, because the request deadline bounds the whole call anyway.
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    public static AzureRetryOptions StorageDefault { get; } = new(TimeSpan.FromSeconds(3), 2);

    /// <summary>Table Storage and Storage queues: <c>Storage:TryTimeoutSeconds</c> (3), <c>Storage:MaxRetries</c> (2).</summary>
    public static AzureRetryOptions ForStorage(IConfiguration configuration) => From(configuration.GetSection("Storage"), 3, 2);

    /// <summary>Key Vault and Entra token requests: <c>Secrets:TryTimeoutSeconds</c> (3), <c>Secrets:MaxRetries</c> (2).</summary>
    public static AzureRetryOptions ForSecrets(IConfiguration configuration) => From(configuration.GetSection("Secrets"), 3, 2);

    private static AzureRetryOptions From(IConfigurationSection section, double tryTimeoutSeconds, int maxRetries) => new(
        TimeSpan.FromSeconds(double.TryParse(section["TryTimeoutSeconds"], System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            && seconds > 0 ? seconds : tryTimeoutSeconds),
        int.TryParse(section["MaxRetries"], out var retries) ? Math.Clamp(retries, 0, 10) : maxRetries);

    public T Apply<T>(T options) where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.NetworkTimeout = TryTimeout;
        options.Retry.MaxRetries = MaxRetries;
        options.Retry.Delay = RetryDelay;
        options.Retry.MaxDelay = MaxRetryDelay;
        // Nothing listens to the SDK's own per-request log events or tracing spans (the request
        // pipeline logs each request), and both cost CPU on every storage call.
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;
        return options;
    }
}
