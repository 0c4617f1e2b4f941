namespace Sso.Bench;

/// <summary>What every bench entry reads from its arguments: <c>--name value</c> pairs.</summary>
public static class BenchArgs
{
    public static string? String(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    public static int Int(string[] args, string name, int fallback) =>
        String(args, name) is { } value && int.TryParse(value, out var parsed) ? parsed : fallback;
}

public static class Latency
{
    /// <summary>The nearest-rank percentile of already sorted samples (0 for none).</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
