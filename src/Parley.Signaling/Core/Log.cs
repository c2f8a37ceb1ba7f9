using Microsoft.Extensions.Logging;

namespace Parley.Signaling;

// Source-generated logs, event ids 1xxx for signaling. Never log SDP, candidates, passwords or tokens. Every line names
// its connection or peer. Room names are the invitation to a room (enough to join one without a password), so at
// Information rooms appear by their short id (room-N); 1051 (Debug) says which name an id stands for.
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Debug, "Connection {ConnectionId} opened")]
    public static partial void ConnectionOpened(ILogger logger, string connectionId);

    [LoggerMessage(1001, LogLevel.Information, "Connection {ConnectionId} welcomed as peer {PeerId} (resumed: {Resumed})")]
    public static partial void Welcomed(ILogger logger, string connectionId, string peerId, bool resumed);

    [LoggerMessage(1002, LogLevel.Information, "Peer {PeerId} joined room {RoomId} ({Count}/{Capacity})")]
    public static partial void JoinedRoom(ILogger logger, string peerId, string roomId, int count, int capacity);

    [LoggerMessage(1003, LogLevel.Information, "Peer {PeerId} left room {RoomId} ({Reason})")]
    public static partial void LeftRoom(ILogger logger, string peerId, string roomId, string reason);

    [LoggerMessage(1004, LogLevel.Information, "Peer {PeerId} lost its socket; grace period started")]
    public static partial void SessionAway(ILogger logger, string peerId);

    [LoggerMessage(1005, LogLevel.Information, "Session {PeerId} ended ({Reason})")]
    public static partial void SessionEnded(ILogger logger, string peerId, string reason);

    [LoggerMessage(1006, LogLevel.Debug, "Connection {ConnectionId} (peer {PeerId}): error {ErrorId} for '{MessageType}'")]
    public static partial void ProtocolError(ILogger logger, string connectionId, string? peerId, string errorId, string? messageType);

    [LoggerMessage(1007, LogLevel.Warning, "Connection {ConnectionId} (peer {PeerId}) is over its message rate; messages dropped")]
    public static partial void RateLimited(ILogger logger, string connectionId, string? peerId);

    [LoggerMessage(1008, LogLevel.Warning, "Connection {ConnectionId} (peer {PeerId}) cannot keep up with its messages; dropped")]
    public static partial void SlowConsumer(ILogger logger, string connectionId, string? peerId);

    [LoggerMessage(1009, LogLevel.Information, "Connection {ConnectionId} (peer {PeerId}) missed its heartbeats; closed")]
    public static partial void HeartbeatTimeout(ILogger logger, string connectionId, string? peerId);

    [LoggerMessage(1010, LogLevel.Warning, "Connection {ConnectionId} refused: the server is full")]
    public static partial void ServerFull(ILogger logger, string connectionId);

    [LoggerMessage(1014, LogLevel.Information, "Connection {ConnectionId} refused: the server is draining")]
    public static partial void ServerDraining(ILogger logger, string connectionId);

    [LoggerMessage(1011, LogLevel.Information, "Peer {PeerId} gave a wrong password for room {RoomId}")]
    public static partial void WrongPassword(ILogger logger, string peerId, string roomId);

    [LoggerMessage(1012, LogLevel.Error, "Connection {ConnectionId} (peer {PeerId}) failed; closed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, string connectionId, string? peerId);

    [LoggerMessage(1013, LogLevel.Warning, "Could not keep the resume key in {Path}; sessions will not survive a restart")]
    public static partial void ResumeKeyNotPersisted(ILogger logger, Exception exception, string path);
}
