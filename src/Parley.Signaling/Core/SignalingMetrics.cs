using System.Diagnostics.Metrics;
using Parley.Signaling.Protocol;

namespace Parley.Signaling;

/// <summary>What the hub holds right now, read under its lock when metrics are collected.</summary>
internal readonly record struct HubGauges(int Connections, int Sessions, int Rooms, int Participants);

/// <summary>
/// The signaling service's metrics (meter <c>Parley.Signaling</c>; docs/observability.md lists them). Labels come from
/// fixed sets only: message types this server knows, its own error ids, candidate types, relay protocols and failure
/// reasons from <see cref="CallReports"/>. Never a room, name, peer id or free text: anything unknown is "other".
/// Created through <see cref="IMeterFactory"/>, so each host (and each test) has its own meter.
/// </summary>
public sealed class SignalingMetrics
{
    public const string MeterName = "Parley.Signaling";

    private static readonly double[] s_durationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];
    private static readonly double[] s_rttBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2];
    private static readonly double[] s_lossBuckets = [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

    private readonly Counter<long> _messages;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _callsStarted;
    private readonly Counter<long> _callsFailed;
    private readonly Counter<long> _reports;
    private readonly Counter<long> _iceRestarts;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _rtt;
    private readonly Histogram<double> _loss;
    private Func<HubGauges>? _gauges;

    public SignalingMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("parley.signaling.connections", () => Gauge(g => g.Connections), "{connection}",
            "Open signaling WebSockets.");
        meter.CreateObservableUpDownCounter("parley.signaling.sessions", () => Gauge(g => g.Sessions), "{session}",
            "Signaling sessions, with a socket or waiting in their resume grace period.");
        meter.CreateObservableUpDownCounter("parley.signaling.rooms", () => Gauge(g => g.Rooms), "{room}", "Rooms with members.");
        meter.CreateObservableUpDownCounter("parley.signaling.participants", () => Gauge(g => g.Participants), "{participant}",
            "Members of rooms, including those in their grace period.");
        _messages = meter.CreateCounter<long>("parley.signaling.messages", "{message}", "Client messages received, by type (other: unknown or unreadable).");
        _errors = meter.CreateCounter<long>("parley.signaling.errors", "{error}", "Signaling errors sent to clients, by error id.");
        _callsStarted = meter.CreateCounter<long>("parley.calls.started", "{call}",
            "Pairs of room members that began negotiating: the first offer relayed between them while both are in the room.");
        _callsFailed = meter.CreateCounter<long>("parley.calls.failed", "{call}", "Call reports with a failure reason, by reason.");
        _reports = meter.CreateCounter<long>("parley.call.reports", "{report}",
            "Call reports received (one per browser per peer connection), by selected candidate types and relay protocol.");
        _iceRestarts = meter.CreateCounter<long>("parley.call.ice_restarts", "{restart}", "ICE restarts reported by clients in call reports.");
        _duration = meter.CreateHistogram("parley.call.duration", "s", "Duration of reported peer connections.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _rtt = meter.CreateHistogram("parley.call.rtt", "s", "Average round-trip time of reported peer connections.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_rttBuckets });
        _loss = meter.CreateHistogram("parley.call.packet_loss", "1", "Fraction of inbound RTP packets lost in reported peer connections.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_lossBuckets });
    }

    /// <summary>Where the gauges come from: the hub registers itself.</summary>
    internal void Observe(Func<HubGauges> gauges) => _gauges = gauges;

    /// <param name="type">The message's type if this server knows it; anything else is counted as "other".</param>
    internal void MessageReceived(string? type) =>
        _messages.Add(1, new KeyValuePair<string, object?>("type", type is not null && ClientMessageReader.IsKnownType(type) ? type : "other"));

    /// <param name="errorId">One of the ids of <see cref="SignalingError"/>: a fixed set.</param>
    internal void ErrorSent(string errorId) => _errors.Add(1, new KeyValuePair<string, object?>("error", errorId));

    internal void CallStarted() => _callsStarted.Add(1);

    internal void CallReported(CallReportMessage report)
    {
        _reports.Add(1,
            new KeyValuePair<string, object?>("local_candidate_type", CallReports.Label(report.LocalCandidateType, CallReports.CandidateTypes)),
            new KeyValuePair<string, object?>("remote_candidate_type", CallReports.Label(report.RemoteCandidateType, CallReports.CandidateTypes)),
            new KeyValuePair<string, object?>("relay_protocol", CallReports.Label(report.RelayProtocol, CallReports.RelayProtocols)));
        if (report.Failure is not null)
            _callsFailed.Add(1, new KeyValuePair<string, object?>("reason", CallReports.Label(report.Failure, CallReports.Failures)));
        if (report.IceRestarts > 0)
            _iceRestarts.Add(report.IceRestarts);
        _duration.Record(report.DurationMs / 1000.0);
        if (report.RttMs is { } rtt)
            _rtt.Record(rtt / 1000.0);
        if (report.PacketLoss is { } loss)
            _loss.Record(loss);
    }

    private IEnumerable<Measurement<int>> Gauge(Func<HubGauges, int> pick) =>
        _gauges is { } gauges ? [new Measurement<int>(pick(gauges()))] : [];
}
