using Microsoft.Extensions.Logging;
using Parley.Signaling.Protocol;

namespace Parley.Signaling;

// Metrics and call reports (docs/observability.md). Everything here runs under the hub's lock, like the handlers.
public sealed partial class SignalingHub
{
    private readonly SignalingMetrics? _metrics;
    // For "calls started": the peers each session has exchanged an offer with while both were in its room.
    private readonly Dictionary<string, HashSet<string>> _callPeers = new(StringComparer.Ordinal);

    /// <summary>Counts for the gauges: open sockets, sessions, rooms and room members.</summary>
    internal HubGauges Gauges()
    {
        lock (_gate)
        {
            var participants = 0;
            foreach (var room in _rooms.Values)
                participants += room.Members.Count;
            return new HubGauges(_connections.Count, _sessions.Count, _rooms.Count, participants);
        }
    }

    /// <summary>An offer relayed from <paramref name="from"/> to <paramref name="to"/>: the first between them starts a call.</summary>
    private void NoteOffer(Session from, Session to)
    {
        if (_metrics is null)
            return;
        if (!_callPeers.TryGetValue(from.PeerId, out var peers))
            _callPeers[from.PeerId] = peers = new HashSet<string>(StringComparer.Ordinal);
        if (!peers.Add(to.PeerId))
            return;
        if (!_callPeers.TryGetValue(to.PeerId, out var back))
            _callPeers[to.PeerId] = back = new HashSet<string>(StringComparer.Ordinal);
        if (back.Add(from.PeerId))
            _metrics.CallStarted();
    }

    /// <summary>A member left its room: its calls are over, and a later offer between the same two is a new call.</summary>
    private void ForgetCalls(Session session)
    {
        if (!_callPeers.Remove(session.PeerId, out var peers))
            return;
        foreach (var peer in peers)
        {
            if (_callPeers.TryGetValue(peer, out var back) && back.Remove(session.PeerId) && back.Count == 0)
                _callPeers.Remove(peer);
        }
    }

    /// <summary>Validates a call report and counts it. Nothing of it is kept, and it is logged at Debug only.</summary>
    private void HandleCallReport(SignalingConnection connection, CallReportMessage report)
    {
        if (CallReports.Validate(report) is { } problem)
        {
            SendError(connection, SignalingError.InvalidCallReport(problem), report.Rid, "call-report");
            return;
        }
        _metrics?.CallReported(report);
        Log.CallReported(_logger, connection.Transport.Id, connection.PeerId, report.DurationMs, report.LocalCandidateType,
            report.RemoteCandidateType, report.Failure);
    }
}

internal static partial class Log
{
    [LoggerMessage(1050, LogLevel.Debug, "Connection {ConnectionId} (peer {PeerId}) reported a call: {DurationMs} ms, candidates {LocalCandidateType}/{RemoteCandidateType}, failure {Failure}")]
    public static partial void CallReported(ILogger logger, string connectionId, string? peerId, long durationMs, string? localCandidateType,
        string? remoteCandidateType, string? failure);

    [LoggerMessage(1051, LogLevel.Debug, "Room {RoomId} created: {Room}")]
    public static partial void RoomCreated(ILogger logger, string roomId, string room);
}
