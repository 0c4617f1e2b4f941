namespace Sso.Functions.Webhooks;

/// <param name="DisableAfterConsecutiveFailures">The fewest consecutive failures that can disable a webhook.</param>
/// <param name="DisableAfterFailingFor">
/// How long a webhook must have failed without a single success before a failure disables it:
/// a burst of failures during a short outage never does.
/// </param>
public sealed record WebhookOptions(
    int MaxAttempts, TimeSpan RetryBase, TimeSpan RetryMax, int DisableAfterConsecutiveFailures, TimeSpan Timeout,
    TimeSpan DisableAfterFailingFor)
{
    public static WebhookOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Webhooks");
        return new WebhookOptions(
            MaxAttempts: int.TryParse(section["MaxAttempts"], out var attempts) ? Math.Clamp(attempts, 1, 20) : 8,
            RetryBase: TimeSpan.FromSeconds(double.TryParse(section["RetryBaseSeconds"], out var retry) ? retry : 30),
            RetryMax: TimeSpan.FromSeconds(double.TryParse(section["RetryMaxSeconds"], out var max) ? max : 3600),
            DisableAfterConsecutiveFailures: int.TryParse(section["DisableAfterFailures"], out var failures) ? failures : 10,
            Timeout: TimeSpan.FromSeconds(double.TryParse(section["TimeoutSeconds"], out var timeout) ? timeout : 10),
            DisableAfterFailingFor: TimeSpan.FromMinutes(
                double.TryParse(section["DisableAfterFailingMinutes"], System.Globalization.CultureInfo.InvariantCulture, out var minutes)
                && minutes >= 0 ? minutes : 60));
    }

    /// <summary>The disable rule: failing continuously for the whole window, and at least the minimum count of failures.</summary>
    public bool ShouldDisable(int consecutiveFailures, DateTimeOffset failingSince, DateTimeOffset now) =>
        consecutiveFailures >= DisableAfterConsecutiveFailures && now - failingSince >= DisableAfterFailingFor;

    /// <summary>
    /// Exponential backoff with ±25 % jitter, so endpoints coming back from an outage are not hit
    /// by every retry at the same instant.
    /// </summary>
    public TimeSpan DelayBefore(int nextAttempt, double random01)
    {
        var exponential = RetryBase.TotalSeconds * Math.Pow(2, Math.Max(0, nextAttempt - 2));
        var capped = Math.Min(exponential, RetryMax.TotalSeconds);
        return TimeSpan.FromSeconds(capped * (0.75 + 0.5 * random01));
    }
}
