using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sso.Functions.Hosting;

namespace Sso.Functions.Tests.Deprovisioning;

/// <summary>
/// The failed deliveries of one queue function, counted from the local dispatcher's warning the
/// moment each one fails. <see cref="OnFailure"/> runs right then, before the dispatcher receives
/// its next message (tests run it one message at a time), so a test can end an outage after exactly
/// the failures it wants: with a 1 s visibility timeout on a loaded machine, a failed message can be
/// delivered again within one drain, or between two peeks, and so be delivered more often than
/// anything that watches the queue from outside can see.
/// <code>
/// var failures = new FunctionFailures(DeprovisionWorker.Function.FunctionName);
/// await using var app = new SsoAppFactory(azurite, settings) { TestServices = failures.AddTo };
/// </code>
/// </summary>
public sealed class FunctionFailures(string functionName) : ILoggerProvider
{
    private readonly string _functionName = functionName;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Called with the count after each failure, on the dispatcher's own path.</summary>
    public Action<int>? OnFailure { get; set; }

    public void AddTo(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(this);

    public ILogger CreateLogger(string categoryName) =>
        categoryName == typeof(LocalQueueDispatcher).FullName ? new Watcher(this) : NullLogger.Instance;

    public void Dispose()
    {
    }

    private void Failed()
    {
        var count = Interlocked.Increment(ref _count);
        OnFailure?.Invoke(count);
    }

    private sealed class Watcher(FunctionFailures owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // "Function {FunctionName} failed; the message will be retried" (poisoning is logged as an error).
            if (logLevel == LogLevel.Warning && exception is not null && state is IReadOnlyList<KeyValuePair<string, object?>> values
                && values.Any(v => v.Key == "FunctionName" && Equals(v.Value, owner._functionName)))
                owner.Failed();
        }
    }
}
