using System.Globalization;
using System.Text;

namespace Parley.Server.Observability;

internal enum MetricKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One metric family: every series of one instrument, under its Prometheus name.</summary>
internal sealed record MetricFamily(string Name, MetricKind Kind, string? Help, IReadOnlyList<MetricPoint> Points);

/// <summary>One series: its labels and either a value or a histogram.</summary>
internal sealed record MetricPoint(IReadOnlyList<KeyValuePair<string, string>> Labels, double Value, HistogramPoint? Histogram = null);

/// <param name="Bounds">Upper bounds of the buckets, ascending; +Inf is implied.</param>
/// <param name="BucketCounts">Observations per bucket (not cumulative), one more than <paramref name="Bounds"/> (the +Inf bucket).</param>
internal sealed record HistogramPoint(IReadOnlyList<double> Bounds, IReadOnlyList<long> BucketCounts, double Sum, long Count);

/// <summary>
/// The Prometheus text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/): HELP and TYPE lines, escaped label values,
/// <c>_total</c> counters and <c>_bucket</c>/<c>_sum</c>/<c>_count</c> histograms, with metric names derived from
/// OpenTelemetry instrument names and units as the OpenTelemetry-to-Prometheus compatibility rules do.
/// <para>
/// Written here rather than taken from a package because the package feed this project builds from has no Prometheus
/// exporter (neither OpenTelemetry.Exporter.Prometheus.AspNetCore/HttpListener nor prometheus-net); the format is
/// small and stable, and the tests pin it byte for byte.
/// </para>
/// </summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// The Prometheus name of an instrument: invalid characters become '_', the unit is appended as a word
    /// (s → seconds, By → bytes, 1 → ratio for gauges and histograms; annotations like {packet} are dropped), and
    /// counters end in <c>_total</c>.
    /// </summary>
    public static string MetricName(string instrumentName, string? unit, MetricKind kind)
    {
        var name = Sanitize(instrumentName, allowColon: true);
        var suffix = UnitSuffix(unit, kind);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
            name += "_" + suffix;
        if (kind == MetricKind.Counter && !name.EndsWith("_total", StringComparison.Ordinal))
            name += "_total";
        return name;
    }

    public static void Write(StringBuilder output, IEnumerable<MetricFamily> families)
    {
        foreach (var family in families)
        {
            if (family.Points.Count == 0)
                continue;
            if (!string.IsNullOrEmpty(family.Help))
                output.Append("# HELP ").Append(family.Name).Append(' ').Append(EscapeHelp(family.Help)).Append('\n');
            output.Append("# TYPE ").Append(family.Name).Append(' ').Append(family.Kind switch
            {
                MetricKind.Counter => "counter",
                MetricKind.Gauge => "gauge",
                _ => "histogram",
            }).Append('\n');

            foreach (var point in family.Points)
            {
                if (family.Kind != MetricKind.Histogram || point.Histogram is not { } histogram)
                {
                    WriteSample(output, family.Name, point.Labels, null, point.Value);
                    continue;
                }
                long cumulative = 0;
                for (var i = 0; i <= histogram.Bounds.Count; i++)
                {
                    cumulative += histogram.BucketCounts[i];
                    var le = i < histogram.Bounds.Count ? FormatValue(histogram.Bounds[i]) : "+Inf";
                    WriteSample(output, family.Name + "_bucket", point.Labels, le, cumulative);
                }
                WriteSample(output, family.Name + "_sum", point.Labels, null, histogram.Sum);
                WriteSample(output, family.Name + "_count", point.Labels, null, histogram.Count);
            }
        }
    }

    public static string FormatValue(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Label values: backslash, double quote and line feed are escaped.</summary>
    public static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>HELP text: backslash and line feed are escaped.</summary>
    public static string EscapeHelp(string help) =>
        help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>Metric names may hold [a-zA-Z0-9_:], label names [a-zA-Z0-9_], neither may start with a digit.</summary>
    public static string Sanitize(string name, bool allowColon)
    {
        var builder = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' || (allowColon && c == ':');
            builder.Append(ok ? c : '_');
        }
        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
            builder.Insert(0, '_');
        return builder.ToString();
    }

    private static string UnitSuffix(string? unit, MetricKind kind)
    {
        if (string.IsNullOrEmpty(unit) || unit.StartsWith('{'))
            return "";
        return unit switch
        {
            "1" => kind == MetricKind.Counter ? "" : "ratio",
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            "KiBy" => "kibibytes",
            "MiBy" => "mebibytes",
            "%" => "percent",
            _ => Sanitize(unit, allowColon: false).Trim('_'),
        };
    }

    private static void WriteSample(StringBuilder output, string name, IReadOnlyList<KeyValuePair<string, string>> labels, string? le, double value)
    {
        output.Append(name);
        if (labels.Count > 0 || le is not null)
        {
            output.Append('{');
            var first = true;
            foreach (var (key, labelValue) in labels)
            {
                if (!first)
                    output.Append(',');
                first = false;
                output.Append(Sanitize(key, allowColon: false)).Append("=\"").Append(EscapeLabelValue(labelValue)).Append('"');
            }
            if (le is not null)
                output.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
            output.Append('}');
        }
        output.Append(' ').Append(FormatValue(value)).Append('\n');
    }
}
