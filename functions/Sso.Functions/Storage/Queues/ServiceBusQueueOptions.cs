using System.Globalization;
using Azure.Messaging.ServiceBus;

namespace Sso.Functions.Storage.Queues;

/// <summary>
/// The Service Bus namespace and how long a send, list or replay may take. The defaults keep a
/// route that sends on its request path inside the service's rule (DESIGN.md §4: a route answers
/// 503 in its own format within 10 s when a backing service hangs): each try gives up after
/// <see cref="TryTimeout"/>, the SDK retries <see cref="MaxRetries"/> times with exponential
/// backoff, and <see cref="OperationTimeout"/> caps the whole call, retries included.
/// </summary>
public sealed record ServiceBusQueueOptions(
    string FullyQualifiedNamespace,
    TimeSpan TryTimeout,
    int MaxRetries,
    TimeSpan RetryDelay,
    TimeSpan MaxRetryDelay,
    TimeSpan OperationTimeout)
{
    public static readonly TimeSpan DefaultTryTimeout = TimeSpan.FromSeconds(3);
    public const int DefaultMaxRetries = 2;
    public static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan DefaultMaxRetryDelay = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromSeconds(8);

    public static ServiceBusQueueOptions From(IConfiguration configuration)
    {
        var fullyQualifiedNamespace = configuration["Queues:ServiceBusNamespace"] is { Length: > 0 } ns
            ? ns
            : throw new InvalidOperationException("Set Queues:ServiceBusNamespace (e.g. mysso.servicebus.windows.net).");
        if (Uri.CheckHostName(fullyQualifiedNamespace) != UriHostNameType.Dns)
            throw new InvalidOperationException("Queues:ServiceBusNamespace is the namespace host name (e.g. mysso.servicebus.windows.net), not a URL.");
        var section = configuration.GetSection("Queues:ServiceBus");
        return new ServiceBusQueueOptions(
            fullyQualifiedNamespace,
            Duration(section, "TryTimeoutSeconds", 1000, DefaultTryTimeout, min: 1, max: 60),
            Number(section, "MaxRetries", DefaultMaxRetries, min: 0, max: 10),
            Duration(section, "RetryDelayMilliseconds", 1, DefaultRetryDelay, min: 1, max: 60_000),
            Duration(section, "MaxRetryDelayMilliseconds", 1, DefaultMaxRetryDelay, min: 1, max: 600_000),
            Duration(section, "OperationTimeoutSeconds", 1000, DefaultOperationTimeout, min: 1, max: 300));
    }

    /// <summary>
    /// Set explicitly rather than left to the SDK's defaults (60 s per try, 3 retries, up to 30 s
    /// between them), which would hold a request for minutes when the namespace hangs.
    /// </summary>
    public ServiceBusClientOptions ToClientOptions() => new()
    {
        RetryOptions = new ServiceBusRetryOptions
        {
            Mode = ServiceBusRetryMode.Exponential,
            MaxRetries = MaxRetries,
            Delay = RetryDelay,
            MaxDelay = MaxRetryDelay,
            TryTimeout = TryTimeout,
        },
    };

    private static int Number(IConfigurationSection section, string key, int fallback, int min, int max)
    {
        if (section[key] is not { Length: > 0 } raw) return fallback;
        return int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new InvalidOperationException($"Queues:ServiceBus:{key} must be a whole number from {min} to {max}.");
    }

    private static TimeSpan Duration(IConfigurationSection section, string key, int millisecondsPerUnit, TimeSpan fallback, int min, int max) =>
        section[key] is { Length: > 0 }
            ? TimeSpan.FromMilliseconds((double)Number(section, key, 0, min, max) * millisecondsPerUnit)
            : fallback;
}
