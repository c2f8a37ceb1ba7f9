using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Signaling.Protocol;

namespace Parley.Signaling;

/// <summary>
/// The signaling core: sessions, rooms, routing, resume and grace periods. It sees sockets only through
/// <see cref="ISignalingTransport"/> and time only through <see cref="TimeProvider"/>, so tests drive it in memory
/// and in virtual time. One lock guards all state: every operation is short and sends only enqueue.
/// </summary>
public sealed partial class SignalingHub : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SignalingOptions _options;
    private readonly TimeProvider _time;
    private readonly ResumeTokenSealer _sealer;
    private readonly ILogger _logger;
    private readonly ITimer _sweepTimer;
    private readonly HashSet<SignalingConnection> _connections = [];
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    // Peer ids that ended on purpose, kept while their tokens could still be presented, so a token cannot revive them.
    private readonly Dictionary<string, long> _endedSessions = new(StringComparer.Ordinal);
    // Sockets whose send queue overflowed during a broadcast; dropped once the broadcast is done.
    private readonly List<SignalingConnection> _overflowed = [];
    private readonly IceServerProvider _iceServers;
    private readonly ProtocolLimits _limits;
    private bool _shuttingDown;

    public const int ProtocolVersion = 1;

    public SignalingHub(IOptions<SignalingOptions> options, TimeProvider time, ResumeKeyProvider keys, IceServerProvider iceServers, ILogger<SignalingHub> logger,
        SignalingMetrics? metrics = null)
    {
        _options = options.Value;
        _time = time;
        _sealer = new ResumeTokenSealer(keys.GetKey());
        _logger = logger;
        _iceServers = iceServers;
        _limits = new ProtocolLimits
        {
            MaxMessageBytes = _options.MaxMessageBytes,
            MessagesPerSecond = _options.MessagesPerSecond,
            MaxNameLength = SignalingOptions.MaxNameLength,
            MaxRoomLength = SignalingOptions.MaxRoomNameLength,
            MaxRoomCapacity = _options.RoomCapacity,
        };
        _sweepTimer = time.CreateTimer(_ => Sweep(), null, SweepPeriod, SweepPeriod);
        _metrics = metrics;
        metrics?.Observe(Gauges);
    }

    /// <summary>How often heartbeats, hello deadlines and grace periods are checked.</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);

    public int MaxMessageBytes => _options.MaxMessageBytes;

    /// <summary>Sessions known (live or in grace) and rooms, for health and tests.</summary>
    public (int Sessions, int Rooms, int Connections) Counts()
    {
        lock (_gate)
            return (_sessions.Count, _rooms.Count, _connections.Count);
    }

    /// <summary>Attaches a new socket. Null when the server is full or draining (the socket has then been told and closed).</summary>
    public SignalingConnection? Connect(ISignalingTransport transport)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            if (_shuttingDown)
            {
                Refuse(transport, SignalingError.ServerDraining, CloseCodes.GoingAway, "server draining");
                Log.ServerDraining(_logger, transport.Id);
                return null;
            }
            if (_connections.Count + _sessions.Values.Count(s => s.IsAway) >= _options.MaxSessions)
            {
                Refuse(transport, SignalingError.ServerFull, CloseCodes.TryAgainLater, "server full");
                Log.ServerFull(_logger, transport.Id);
                return null;
            }
            var rate = new TokenBucket(_time, _options.MessagesPerSecond, 2.0 * _options.MessagesPerSecond);
            var connection = new SignalingConnection(this, transport, rate, now);
            _connections.Add(connection);
            Log.ConnectionOpened(_logger, transport.Id);
            return connection;
        }
    }

    private void Refuse(ISignalingTransport transport, SignalingError error, int closeCode, string reason)
    {
        transport.TrySend(Serialize(Error(error, null, null)));
        _metrics?.ErrorSent(error.Id);
        transport.Close(closeCode, reason);
    }

    /// <summary>Closes every socket with 1001 so clients reconnect (to this server restarted, or another node) and resume.</summary>
    public void Shutdown()
    {
        lock (_gate)
        {
            _shuttingDown = true;
            foreach (var connection in _connections)
            {
                connection.IsDetached = true;
                connection.Transport.Close(CloseCodes.GoingAway, "server shutting down");
            }
            _connections.Clear();
        }
    }

    public void Dispose() => _sweepTimer.Dispose();

    internal void OnReceive(SignalingConnection connection, ReadOnlySpan<byte> utf8)
    {
        // Parse outside the lock: it is the costly part and touches no shared state.
        var ok = ClientMessageReader.TryRead(utf8, out var message, out var error, out var type, out var rid);
        if (ok && message is CallReportMessage && utf8.Length > CallReports.MaxMessageBytes)
            (ok, error) = (false, SignalingError.InvalidCallReport("A call-report may have at most 1024 bytes."));
        _metrics?.MessageReceived(type);
        lock (_gate)
        {
            if (!Admit(connection))
                return;
            if (!ok)
            {
                SendError(connection, error, rid, type);
                return;
            }
            Dispatch(connection, message!, type!);
            DropOverflowed();
        }
    }

    internal void OnUnreadable(SignalingConnection connection, SignalingError error)
    {
        _metrics?.MessageReceived(null);
        lock (_gate)
        {
            if (Admit(connection))
                SendError(connection, error, null, null);
        }
    }

    /// <summary>Counts a message against the rate limit and the heartbeat; false if it must be dropped.</summary>
    private bool Admit(SignalingConnection connection)
    {
        if (connection.IsDetached)
            return false;
        var now = _time.GetTimestamp();
        connection.LastReceivedAt = now;
        if (connection.Rate.TryTake())
            return true;
        if (_time.GetElapsedTime(connection.LastRateLimitErrorAt, now) >= TimeSpan.FromSeconds(1) || connection.LastRateLimitErrorAt == long.MinValue)
        {
            connection.LastRateLimitErrorAt = now;
            SendError(connection, SignalingError.RateLimited, null, null);
            Log.RateLimited(_logger, connection.Transport.Id, connection.PeerId);
        }
        return false;
    }

    internal void OnDisconnected(SignalingConnection connection, int? clientCloseStatus)
    {
        lock (_gate)
        {
            if (connection.IsDetached)
                return;
            // A browser closing a tab or navigating away sends 1001: that is a goodbye, not a network blip.
            var goodbye = clientCloseStatus == CloseCodes.GoingAway;
            Detach(connection, goodbye ? LeaveReasons.Left : null);
            DropOverflowed();
        }
    }

    /// <summary>
    /// Removes a socket from the hub. With <paramref name="endReason"/> the session ends at once; otherwise it
    /// waits in its grace period and the room is told the peer is away.
    /// </summary>
    private void Detach(SignalingConnection connection, string? endReason)
    {
        connection.IsDetached = true;
        _connections.Remove(connection);
        var session = connection.Session;
        if (session is null || session.Connection != connection)
            return;

        session.Connection = null;
        if (endReason is not null || _options.ResumeGrace <= TimeSpan.Zero || _shuttingDown)
        {
            if (!_shuttingDown)
                EndSession(session, endReason ?? LeaveReasons.Timeout);
            return;
        }

        session.AwaySince = _time.GetTimestamp();
        Log.SessionAway(_logger, session.PeerId);
        if (session.Room is { } room)
            Broadcast(room, session, new PeerAwayMessage { Room = room.Name, PeerId = session.PeerId });
    }

    /// <summary>Ends a session for good: leaves its room and forgets it.</summary>
    private void EndSession(Session session, string reason)
    {
        LeaveRoom(session, reason);
        _sessions.Remove(session.PeerId);
        _endedSessions[session.PeerId] = _time.GetTimestamp();
        Log.SessionEnded(_logger, session.PeerId, reason);
    }

    private void LeaveRoom(Session session, string reason)
    {
        if (session.Room is not { } room)
            return;
        room.Members.Remove(session);
        session.Room = null;
        ForgetCalls(session);
        Broadcast(room, session, new PeerLeftMessage { Room = room.Name, PeerId = session.PeerId, Reason = reason });
        if (room.Members.Count == 0)
            _rooms.Remove(room.Name);
        Log.LeftRoom(_logger, session.PeerId, room.Id, reason);
    }

    /// <summary>Hello deadlines, heartbeat timeouts and grace periods. Runs every <see cref="SweepPeriod"/>.</summary>
    internal void Sweep()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            foreach (var connection in _connections.ToList())
            {
                if (connection.Session is null && _time.GetElapsedTime(connection.OpenedAt, now) >= _options.HelloTimeout)
                {
                    SendError(connection, SignalingError.HelloTimeout, null, null);
                    Detach(connection, null);
                    connection.Transport.Close(CloseCodes.ProtocolError, "hello timeout");
                }
                else if (connection.Session is not null && _time.GetElapsedTime(connection.LastReceivedAt, now) >= _options.HeartbeatTimeout)
                {
                    Log.HeartbeatTimeout(_logger, connection.Transport.Id, connection.PeerId);
                    Detach(connection, null);
                    connection.Transport.Close(CloseCodes.HeartbeatTimeout, "heartbeat timeout");
                }
            }

            foreach (var session in _sessions.Values.ToList())
            {
                if (session.IsAway && _time.GetElapsedTime(session.AwaySince, now) >= _options.ResumeGrace)
                    EndSession(session, LeaveReasons.Timeout);
            }

            var tokenLifetime = MaxTokenAge;
            foreach (var (peerId, endedAt) in _endedSessions.ToList())
            {
                if (_time.GetElapsedTime(endedAt, now) > tokenLifetime)
                    _endedSessions.Remove(peerId);
            }
            DropOverflowed();
        }
    }

    /// <summary>
    /// The oldest resume token accepted: a client holds one at most a heartbeat interval old when its socket dies,
    /// the server notices within the heartbeat timeout, and the grace period follows.
    /// </summary>
    private TimeSpan MaxTokenAge => _options.HeartbeatInterval + _options.HeartbeatTimeout + _options.ResumeGrace;

    private long UnixMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static string NewPeerId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    private string IssueToken(Session session) => _sealer.Seal(new ResumeTokenPayload
    {
        PeerId = session.PeerId,
        IssuedAtMs = UnixMs,
        Name = session.Name,
        Room = session.Room?.Name,
        JoinedAtMs = session.JoinedAtMs,
        Audio = session.Audio,
        Video = session.Video,
        PasswordSalt = session.Room?.Password?.Salt,
        PasswordHash = session.Room?.Password?.Hash,
    });

    private void Send(SignalingConnection? connection, ServerMessage message)
    {
        if (connection is null || connection.IsDetached)
            return;
        if (!connection.Transport.TrySend(Serialize(message)))
            _overflowed.Add(connection);
    }

    private void SendError(SignalingConnection connection, SignalingError error, string? rid, string? type)
    {
        Log.ProtocolError(_logger, connection.Transport.Id, connection.PeerId, error.Id, type);
        _metrics?.ErrorSent(error.Id);
        Send(connection, Error(error, rid, type));
    }

    private static ErrorMessage Error(SignalingError error, string? rid, string? type) =>
        new() { Id = error.Id, Message = error.Message, Rid = rid, Ref = type };

    /// <summary>Sends to every present member of <paramref name="room"/> but <paramref name="except"/>.</summary>
    private void Broadcast(Room room, Session except, ServerMessage message)
    {
        byte[]? bytes = null;
        foreach (var member in room.Members)
        {
            if (member == except || member.Connection is not { IsDetached: false } connection)
                continue;
            bytes ??= Serialize(message);
            if (!connection.Transport.TrySend(bytes))
                _overflowed.Add(connection);
        }
    }

    /// <summary>A socket that cannot keep up is dropped; its session gets the grace period like any lost socket.</summary>
    private void DropOverflowed()
    {
        while (_overflowed.Count > 0)
        {
            var connection = _overflowed[^1];
            _overflowed.RemoveAt(_overflowed.Count - 1);
            if (connection.IsDetached)
                continue;
            Log.SlowConsumer(_logger, connection.Transport.Id, connection.PeerId);
            Detach(connection, null);
            connection.Transport.Close(CloseCodes.PolicyViolation, "send queue overflow");
        }
    }

    private static byte[] Serialize(ServerMessage message) =>
        JsonSerializer.SerializeToUtf8Bytes(message, ProtocolJsonContext.Default.ServerMessage);
}
