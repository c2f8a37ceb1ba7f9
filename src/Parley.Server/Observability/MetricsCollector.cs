using System.Diagnostics.Metrics;
using System.Globalization;

namespace Parley.Server.Observability;

/// <summary>
/// Listens to this host's Parley meters (those created by its own <see cref="IMeterFactory"/>, so several hosts in one
/// process — the tests — never see each other's numbers) and keeps, per instrument and label set, a running sum
/// (counters, up-down counters), the last value (observable instruments, gauges) or histogram buckets.
/// <see cref="Collect"/> reads the observable instruments and returns a snapshot for <see cref="PrometheusText"/>.
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    // OpenTelemetry's default explicit bucket boundaries, for histograms that advise none.
    private static readonly double[] s_defaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly MeterListener _listener = new();
    private readonly Lock _collectGate = new();
    private readonly Dictionary<Instrument, InstrumentState> _states = [];

    public MetricsCollector(IMeterFactory scope, IReadOnlyCollection<string> meterNames)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!ReferenceEquals(instrument.Meter.Scope, scope) || !meterNames.Contains(instrument.Meter.Name))
                return;
            var state = new InstrumentState(instrument);
            lock (_states)
                _states[instrument] = state;
            listener.EnableMeasurementEvents(instrument, state);
        };
        _listener.MeasurementsCompleted = (instrument, _) =>
        {
            lock (_states)
                _states.Remove(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Reads the observable instruments, then snapshots every series, ordered by metric name.</summary>
    public IReadOnlyList<MetricFamily> Collect()
    {
        lock (_collectGate)
        {
            _listener.RecordObservableInstruments();
            List<InstrumentState> states;
            lock (_states)
                states = [.. _states.Values];
            return [.. states.Select(s => s.Snapshot()).OrderBy(f => f.Name, StringComparer.Ordinal)];
        }
    }

    public void Dispose() => _listener.Dispose();

    private sealed class InstrumentState
    {
        private readonly Instrument _instrument;
        private readonly MetricKind _kind;
        private readonly bool _lastValue;
        private readonly double[]? _bounds;
        private readonly string _name;
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);

        public InstrumentState(Instrument instrument)
        {
            _instrument = instrument;
            var definition = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : instrument.GetType();
            _kind = definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>) ? MetricKind.Counter
                : definition == typeof(Histogram<>) ? MetricKind.Histogram
                : MetricKind.Gauge;
            // Observable instruments report their current (cumulative) value; a synchronous Gauge<T> its latest.
            _lastValue = instrument.IsObservable || definition == typeof(Gauge<>);
            if (_kind == MetricKind.Histogram)
            {
                _bounds = instrument switch
                {
                    Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.ToArray(),
                    Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                    Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
                    _ => null,
                } ?? s_defaultBounds;
            }
            _name = PrometheusText.MetricName(instrument.Name, instrument.Unit, _kind);
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var (key, labels) = Key(tags);
            lock (_series)
            {
                if (!_series.TryGetValue(key, out var series))
                    _series[key] = series = new Series(labels, _bounds is null ? null : new long[_bounds.Length + 1]);
                if (_bounds is not null)
                {
                    var bucket = Array.BinarySearch(_bounds, value);
                    series.Buckets![bucket >= 0 ? bucket : ~bucket]++; // a value equal to a bound belongs to it (le)
                    series.Sum += value;
                    series.Count++;
                }
                else if (_lastValue)
                {
                    series.Value = value;
                }
                else
                {
                    series.Value += value;
                }
            }
        }

        public MetricFamily Snapshot()
        {
            lock (_series)
            {
                var points = _series.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new MetricPoint(p.Value.Labels, p.Value.Value,
                    _bounds is null ? null : new HistogramPoint(_bounds, [.. p.Value.Buckets!], p.Value.Sum, p.Value.Count))).ToList();
                return new MetricFamily(_name, _kind, _instrument.Description, points);
            }
        }

        private static (string Key, KeyValuePair<string, string>[] Labels) Key(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0)
                return ("", []);
            var labels = new KeyValuePair<string, string>[tags.Length];
            for (var i = 0; i < tags.Length; i++)
                labels[i] = new(tags[i].Key, Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "");
            Array.Sort(labels, (a, b) => string.CompareOrdinal(a.Key, b.Key));
            return (string.Join('\u0001', labels.Select(l => l.Key + "\u0002" + l.Value)), labels);
        }

        private sealed class Series(KeyValuePair<string, string>[] labels, long[]? buckets)
        {
            public KeyValuePair<string, string>[] Labels { get; } = labels;
            public long[]? Buckets { get; } = buckets;
            public double Value { get; set; }
            public double Sum { get; set; }
            public long Count { get; set; }
        }
    }
}
