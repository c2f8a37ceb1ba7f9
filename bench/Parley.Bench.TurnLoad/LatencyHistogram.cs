using System.Numerics;

namespace Parley.Bench.TurnLoad;

/// <summary>
/// Round-trip times in microseconds, log-linear buckets: exact below 1024 µs, then 512 buckets per power of two
/// (under 0.2 % error), capped at about 17 minutes. Recording is one array increment: no allocation, no lock;
/// each allocation owns one and they are merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int LinearLimit = 1024;
    private const int SubBuckets = 512;
    private const int MaxShift = 21; // 1023 << 21 µs ≈ 36 min, more than any run is allowed to last
    private readonly long[] _counts = new long[LinearLimit + (MaxShift * SubBuckets)];
    private long _max;

    public long Count { get; private set; }

    public long MaxMicroseconds => _max;

    public void Record(long microseconds)
    {
        long value = Math.Max(0, microseconds);
        _counts[IndexOf(value)]++;
        Count++;
        if (value > _max)
        {
            _max = value;
        }
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        _max = Math.Max(_max, other._max);
    }

    /// <summary>The smallest recorded bucket value at or above the <paramref name="percentile"/> (0-100); 0 if empty.</summary>
    public long GetPercentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(ValueOf(i), _max);
            }
        }

        return _max;
    }

    private static int IndexOf(long value)
    {
        if (value < LinearLimit)
        {
            return (int)value;
        }

        int shift = Math.Min(MaxShift, 63 - BitOperations.LeadingZeroCount((ulong)value) - 9);
        long sub = Math.Min(value >> shift, (2 * SubBuckets) - 1);
        return LinearLimit + ((shift - 1) * SubBuckets) + (int)(sub - SubBuckets);
    }

    // The upper edge of the bucket, so percentiles never under-report.
    private static long ValueOf(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        int shift = ((index - LinearLimit) / SubBuckets) + 1;
        long sub = ((index - LinearLimit) % SubBuckets) + SubBuckets;
        return ((sub + 1) << shift) - 1;
    }
}
