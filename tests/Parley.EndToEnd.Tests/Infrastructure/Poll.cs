using System.Diagnostics;
using System.Text.Json;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>Bounded polling: every wait in these tests ends, and says what it last saw when it gives up.</summary>
internal static class Poll
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_step = TimeSpan.FromMilliseconds(200);

    /// <summary>Probes until <paramref name="done"/> holds; throws <see cref="TimeoutException"/> with the last value otherwise.</summary>
    public static async Task<T> UntilAsync<T>(string what, Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value))
                return value;
            if (clock.Elapsed >= limit)
                throw new TimeoutException($"{what}: not reached within {limit.TotalSeconds:0.#} s. Last seen: {Describe(value)}");
            await Task.Delay(s_step);
        }
    }

    /// <summary>
    /// Probes for all of <paramref name="duration"/> and fails at the first value that breaks <paramref name="condition"/>:
    /// how a test shows that something did not happen.
    /// </summary>
    public static async Task HoldsForAsync<T>(string what, Func<Task<T>> probe, Func<T, bool> condition, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (!condition(value))
                throw new InvalidOperationException($"{what}: broken after {clock.Elapsed.TotalSeconds:0.0} s. Seen: {Describe(value)}");
            if (clock.Elapsed >= duration)
                return;
            await Task.Delay(s_step);
        }
    }

    private static string Describe<T>(T value) =>
        value is string text ? text : JsonSerializer.Serialize(value);
}
