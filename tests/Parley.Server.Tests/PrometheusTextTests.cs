using System.Text;
using Parley.Server.Observability;

namespace Parley.Server.Tests;

/// <summary>The Prometheus text format 0.0.4, byte for byte.</summary>
public sealed class PrometheusTextTests
{
    private static string Write(params MetricFamily[] families)
    {
        var output = new StringBuilder();
        PrometheusText.Write(output, families);
        return output.ToString();
    }

    private static KeyValuePair<string, string>[] Labels(params (string Key, string Value)[] labels) =>
        [.. labels.Select(l => new KeyValuePair<string, string>(l.Key, l.Value))];

    [Fact]
    public void A_counter_has_help_type_and_one_line_per_label_set()
    {
        var text = Write(new MetricFamily("parley_signaling_errors_total", MetricKind.Counter, "Errors sent, by id.",
        [
            new MetricPoint(Labels(("error", "bad-json")), 3),
            new MetricPoint(Labels(("error", "room-full")), 1),
        ]));

        Assert.Equal(
            "# HELP parley_signaling_errors_total Errors sent, by id.\n" +
            "# TYPE parley_signaling_errors_total counter\n" +
            "parley_signaling_errors_total{error=\"bad-json\"} 3\n" +
            "parley_signaling_errors_total{error=\"room-full\"} 1\n", text);
    }

    [Fact]
    public void A_gauge_without_labels()
    {
        var text = Write(new MetricFamily("parley_signaling_rooms", MetricKind.Gauge, null, [new MetricPoint([], 2)]));

        Assert.Equal("# TYPE parley_signaling_rooms gauge\nparley_signaling_rooms 2\n", text);
    }

    [Fact]
    public void A_histogram_has_cumulative_buckets_up_to_inf_then_sum_and_count()
    {
        var text = Write(new MetricFamily("parley_call_rtt_seconds", MetricKind.Histogram, "RTT.",
        [
            new MetricPoint(Labels(("path", "relay")), 0, new HistogramPoint([0.05, 0.1, 0.5], [2, 0, 1, 1], 1.375, 4)),
        ]));

        Assert.Equal(
            "# HELP parley_call_rtt_seconds RTT.\n" +
            "# TYPE parley_call_rtt_seconds histogram\n" +
            "parley_call_rtt_seconds_bucket{path=\"relay\",le=\"0.05\"} 2\n" +
            "parley_call_rtt_seconds_bucket{path=\"relay\",le=\"0.1\"} 2\n" +
            "parley_call_rtt_seconds_bucket{path=\"relay\",le=\"0.5\"} 3\n" +
            "parley_call_rtt_seconds_bucket{path=\"relay\",le=\"+Inf\"} 4\n" +
            "parley_call_rtt_seconds_sum{path=\"relay\"} 1.375\n" +
            "parley_call_rtt_seconds_count{path=\"relay\"} 4\n", text);
    }

    [Fact]
    public void Label_values_and_help_are_escaped_and_label_names_sanitized()
    {
        var text = Write(new MetricFamily("x", MetricKind.Gauge, "a \\ b\nc \"q\"",
            [new MetricPoint(Labels(("we.ird-name", "back\\slash \"quoted\"\nline")), double.NaN)]));

        Assert.Equal(
            "# HELP x a \\\\ b\\nc \"q\"\n" +
            "# TYPE x gauge\n" +
            "x{we_ird_name=\"back\\\\slash \\\"quoted\\\"\\nline\"} NaN\n", text);
    }

    [Fact]
    public void Families_without_series_are_left_out()
    {
        Assert.Equal("", Write(new MetricFamily("parley_calls_failed_total", MetricKind.Counter, "Failed.", [])));
    }

    [Theory]
    [InlineData("parley.signaling.messages", "{message}", "Counter", "parley_signaling_messages_total")]
    [InlineData("parley.signaling.rooms", "{room}", "Gauge", "parley_signaling_rooms")]
    [InlineData("parley.call.duration", "s", "Histogram", "parley_call_duration_seconds")]
    [InlineData("parley.call.packet_loss", "1", "Histogram", "parley_call_packet_loss_ratio")]
    [InlineData("parley.turn.relayed", "By", "Counter", "parley_turn_relayed_bytes_total")]
    [InlineData("parley.turn.relayed.packets", "{packet}", "Counter", "parley_turn_relayed_packets_total")]
    [InlineData("http.server.request.duration", "s", "Histogram", "http_server_request_duration_seconds")]
    [InlineData("9lives", "1", "Counter", "_9lives_total")]
    public void Names_follow_the_opentelemetry_to_prometheus_rules(string instrument, string unit, string kind, string expected)
    {
        Assert.Equal(expected, PrometheusText.MetricName(instrument, unit, Enum.Parse<MetricKind>(kind)));
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(3.0, "3")]
    [InlineData(1e-7, "1E-07")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    public void Values_are_written_invariantly(double value, string expected)
    {
        Assert.Equal(expected, PrometheusText.FormatValue(value));
    }
}
