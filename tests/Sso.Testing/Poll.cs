using System.Diagnostics;

namespace Sso.Testing;

/// <summary>
/// Waits for a condition that only a real process outside the test changes (Azurite making a
/// message visible again after its visibility timeout, a restarted handler catching up): checks
/// it, and between checks yields briefly. The deadline is generous and only turns a hang into a
/// failure; nothing here waits a fixed time for something to have happened.
/// </summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string> describe)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > deadline) throw new TimeoutException($"Not reached within {deadline}: {describe()}");
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan deadline, Func<string> describe) =>
        UntilAsync(() => Task.FromResult(condition()), deadline, describe);
}
