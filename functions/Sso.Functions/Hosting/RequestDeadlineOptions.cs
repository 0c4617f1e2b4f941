namespace Sso.Functions.Hosting;

/// <summary>
/// How long an HTTP function may work on one request before <see cref="RequestPipeline"/> cancels
/// it and answers 503 in the route's format (<c>Hosting:RequestTimeoutSeconds</c>, default 8: the
/// contract's 10 s bound, less room for a loaded machine). Queue and timer invocations from the
/// Functions host are not bounded here; the host's function timeout bounds them.
/// </summary>
public sealed record RequestDeadlineOptions(TimeSpan Deadline)
{
    public static RequestDeadlineOptions From(IConfiguration configuration) => new(TimeSpan.FromSeconds(
        double.TryParse(configuration["Hosting:RequestTimeoutSeconds"], System.Globalization.CultureInfo.InvariantCulture, out var seconds)
        && seconds > 0 ? seconds : 8));
}
