using System.Globalization;

namespace Parley.Bench.CallSetup;

/// <summary>Median, p90 (nearest rank), min and max of a set of timings.</summary>
internal sealed record Summary(double Median, double P90, double Min, double Max)
{
    public static Summary Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            throw new ArgumentException("No values to summarize.", nameof(values));
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        var p90 = sorted[(int)Math.Ceiling(0.9 * sorted.Length) - 1];
        return new Summary(median, p90, sorted[0], sorted[^1]);
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"median {Median,6:0.0}  p90 {P90,6:0.0}  min {Min,6:0.0}  max {Max,6:0.0}");
}
