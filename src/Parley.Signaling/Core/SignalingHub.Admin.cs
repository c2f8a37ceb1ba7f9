using Microsoft.Extensions.Logging;
using Parley.Signaling.Protocol;

namespace Parley.Signaling;

// What an operator can see and do (the host's admin API). Same lock, same rules as the client handlers.
public sealed partial class SignalingHub
{
    /// <summary>True once <see cref="Shutdown"/> ran: new sockets and resumes are refused with <c>server-draining</c>.</summary>
    public bool IsShuttingDown
    {
        get
        {
            lock (_gate)
                return _shuttingDown;
        }
    }

    /// <summary>Every room with its members' peer ids and join times; no display names (see docs/operations.md).</summary>
    public IReadOnlyList<RoomSnapshot> SnapshotRooms()
    {
        lock (_gate)
        {
            return _rooms.Values
                .OrderBy(r => r.Name, StringComparer.Ordinal)
                .Select(r => new RoomSnapshot(
                    r.Name,
                    r.Capacity,
                    r.Password is not null,
                    r.Members.Count == 0 ? UnixMs : r.Members.Min(m => m.JoinedAtMs),
                    [.. r.Members.Select(m => new RoomMemberSnapshot(m.PeerId, m.JoinedAtMs, m.IsAway))]))
                .ToList();
        }
    }

    /// <summary>
    /// Closes a room: every member is sent the error <c>room-closed</c>, its socket closed with 4003, and its session
    /// ended (no resume brings it back). False if there is no such room.
    /// </summary>
    public bool CloseRoom(string name)
    {
        lock (_gate)
        {
            if (!_rooms.TryGetValue(name, out var room))
                return false;
            var members = room.Members.ToList();
            // Everyone is told and cut off first, so nobody hears of the others leaving one by one.
            foreach (var member in members)
                Evict(member, SignalingError.RoomClosed, CloseCodes.RoomClosed);
            foreach (var member in members)
                EndSession(member, LeaveReasons.Kicked);
            AdminLog.RoomClosed(_logger, name, members.Count);
            DropOverflowed();
            return true;
        }
    }

    /// <summary>
    /// Ends one session: it is sent the error <c>session-closed</c> and its socket closed with 4004; its room hears
    /// <c>peer-left</c> with reason <c>kicked</c>. The client may join again as a new peer. False if unknown.
    /// </summary>
    public bool DisconnectSession(string peerId)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(peerId, out var session))
                return false;
            Evict(session, SignalingError.SessionClosed, CloseCodes.SessionClosed);
            EndSession(session, LeaveReasons.Kicked);
            AdminLog.SessionDisconnected(_logger, peerId);
            DropOverflowed();
            return true;
        }
    }

    /// <summary>Tells a session's socket why, then closes it; the session itself is left to the caller.</summary>
    private void Evict(Session session, SignalingError error, int closeCode)
    {
        if (session.Connection is not { } connection)
            return;
        Send(connection, Error(error, null, null));
        connection.IsDetached = true;
        _connections.Remove(connection);
        connection.Transport.Close(closeCode, error.Id);
        session.Connection = null;
    }
}

/// <summary>A room as the admin API shows it.</summary>
/// <param name="CallStartedAtMs">Unix ms when the longest-present current member joined (join times survive restarts).</param>
public sealed record RoomSnapshot(string Name, int Capacity, bool PasswordProtected, long CallStartedAtMs, IReadOnlyList<RoomMemberSnapshot> Members);

/// <summary>A member as the admin API shows it: its peer id (as in the logs), when it joined, whether its socket is lost.</summary>
public sealed record RoomMemberSnapshot(string PeerId, long JoinedAtMs, bool Away);

// Event ids 1080-1089: operator actions.
internal static partial class AdminLog
{
    [LoggerMessage(1080, LogLevel.Warning, "Room {Room} closed by an administrator ({Count} members)")]
    public static partial void RoomClosed(ILogger logger, string room, int count);

    [LoggerMessage(1081, LogLevel.Warning, "Session {PeerId} disconnected by an administrator")]
    public static partial void SessionDisconnected(ILogger logger, string peerId);
}
