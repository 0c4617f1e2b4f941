using System.Globalization;

namespace Sso.Functions.Outbox;

/// <summary>
/// <c>Outbox:BatchWindowMilliseconds</c> (default 200: how long the publisher waits after the first
/// committed event for more to publish in the same batch), <c>Outbox:MaxBatchSize</c> (default 500
/// events) and <c>Outbox:SweepAfterSeconds</c> (default 30: outbox rows older than this are
/// republished by <see cref="OutboxSweep"/>).
/// </summary>
public sealed record OutboxOptions(TimeSpan BatchWindow, int MaxBatchSize, TimeSpan SweepAfter)
{
    public static OutboxOptions From(IConfiguration configuration) => new(
        TimeSpan.FromMilliseconds(Read(configuration, "Outbox:BatchWindowMilliseconds", 200, 0, 600_000)),
        Read(configuration, "Outbox:MaxBatchSize", 500, 1, 10_000),
        TimeSpan.FromSeconds(Read(configuration, "Outbox:SweepAfterSeconds", 30, 0, 86_400)));

    private static int Read(IConfiguration configuration, string key, int fallback, int min, int max)
    {
        if (configuration[key] is not { Length: > 0 } raw) return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new InvalidOperationException($"{key} must be a whole number from {min} to {max}.");
        return value;
    }
}
