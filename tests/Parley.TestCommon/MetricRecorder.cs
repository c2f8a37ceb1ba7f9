using System.Diagnostics.Metrics;

namespace Parley.TestCommon;

/// <summary>
/// An <see cref="IMeterFactory"/> for one test, with a listener that records every measurement of the meters it created
/// (and of no other: tests run in parallel). Microsoft.Extensions.Diagnostics.Testing's MetricCollector does not
/// restore from the package feed used here, hence this.
/// </summary>
public sealed class MetricRecorder : IMeterFactory
{
    private readonly MeterListener _listener = new();
    private readonly List<Meter> _meters = [];
    private readonly List<(string Instrument, double Value, Dictionary<string, string?> Tags)> _measurements = [];

    public MetricRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, this))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        _listener.Start();
    }

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        lock (_meters)
            _meters.Add(meter);
        return meter;
    }

    /// <summary>Every measurement of <paramref name="instrument"/> whose tags include <paramref name="tags"/> (name=value each).</summary>
    public IReadOnlyList<double> Values(string instrument, params string[] tags)
    {
        lock (_measurements)
        {
            return [.. _measurements.Where(m => m.Instrument == instrument && tags.All(t =>
            {
                var (key, value) = (t[..t.IndexOf('=', StringComparison.Ordinal)], t[(t.IndexOf('=', StringComparison.Ordinal) + 1)..]);
                return m.Tags.TryGetValue(key, out var actual) && actual == value;
            })).Select(m => m.Value)];
        }
    }

    /// <summary>The sum of a synchronous counter's measurements with these tags.</summary>
    public double Sum(string instrument, params string[] tags) => Values(instrument, tags).Sum();

    /// <summary>Reads the observable instruments now and returns the latest value with these tags (null if none).</summary>
    public double? Observe(string instrument, params string[] tags)
    {
        _listener.RecordObservableInstruments();
        var values = Values(instrument, tags);
        return values.Count == 0 ? null : values[^1];
    }

    public void Dispose()
    {
        _listener.Dispose();
        lock (_meters)
        {
            foreach (var meter in _meters)
                meter.Dispose();
        }
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, tagValue) in tags)
            copy[key] = tagValue?.ToString();
        lock (_measurements)
            _measurements.Add((instrument.Name, value, copy));
    }
}
