using Parley.Signaling.Protocol;

namespace Parley.Signaling;

// One handler per client message, each called under the hub's lock.
public sealed partial class SignalingHub
{
    /// <param name="type">The message's wire type, as the reader found it (for error replies).</param>
    private void Dispatch(SignalingConnection connection, ClientMessage message, string type)
    {
        if (message is HelloMessage hello)
        {
            HandleHello(connection, hello);
            return;
        }
        if (connection.Session is not { } session)
        {
            SendError(connection, SignalingError.HelloRequired, message.Rid, type);
            return;
        }

        switch (message)
        {
            case PingMessage ping:
                Send(connection, new PongMessage { Rid = ping.Rid, ResumeToken = IssueToken(session) });
                break;
            case IceServersRequest request:
                var (servers, expireAt) = _iceServers.For(session.PeerId, connection.Transport.RequestHost);
                Send(connection, new IceServersMessage { Rid = request.Rid, IceServers = servers, ExpireAtMs = expireAt?.ToUnixTimeMilliseconds() });
                break;
            case JoinMessage join:
                HandleJoin(connection, session, join);
                break;
            case LeaveMessage leave:
                HandleLeave(connection, session, leave);
                break;
            case MediaMessage media:
                HandleMedia(connection, session, media);
                break;
            case PeerMessage peerMessage:
                HandleRelay(connection, session, peerMessage, type);
                break;
            case CallReportMessage report:
                HandleCallReport(connection, report);
                break;
            case ByeMessage:
                Detach(connection, LeaveReasons.Left);
                connection.Transport.Close(CloseCodes.Normal, "bye");
                break;
        }
    }

    private void HandleHello(SignalingConnection connection, HelloMessage hello)
    {
        if (connection.Session is not null)
        {
            SendError(connection, SignalingError.AlreadyWelcomed, hello.Rid, "hello");
            return;
        }
        if (hello.Protocol != ProtocolVersion)
        {
            SendError(connection, SignalingError.UnsupportedProtocol, hello.Rid, "hello");
            Detach(connection, null);
            connection.Transport.Close(CloseCodes.ProtocolError, "unsupported protocol");
            return;
        }

        var session = hello.Resume is { } resume ? TryResume(connection, resume) : null;
        var resumed = session is not null;
        if (session is null)
        {
            session = new Session(NewPeerId());
            _sessions.Add(session.PeerId, session);
        }
        session.Connection = connection;
        connection.Session = session;
        Log.Welcomed(_logger, connection.Transport.Id, session.PeerId, resumed);

        var (iceServers, iceServersExpireAt) = _iceServers.For(session.PeerId, connection.Transport.RequestHost);
        Send(connection, new WelcomeMessage
        {
            Rid = hello.Rid,
            Protocol = ProtocolVersion,
            PeerId = session.PeerId,
            ResumeToken = IssueToken(session),
            Resumed = resumed,
            Room = session.Room is { } room ? JoinedPayload(session, room, null) : null,
            IceServers = iceServers,
            IceServersExpireAtMs = iceServersExpireAt?.ToUnixTimeMilliseconds(),
            HeartbeatIntervalMs = (int)_options.HeartbeatInterval.TotalMilliseconds,
            HeartbeatTimeoutMs = (int)_options.HeartbeatTimeout.TotalMilliseconds,
            ResumeGraceMs = (int)_options.ResumeGrace.TotalMilliseconds,
            Limits = _limits,
        });
    }

    /// <summary>
    /// Gives a reconnecting client its session back: from memory if this server still holds it, or rebuilt from
    /// the sealed token if the server restarted. Null when the token is not good for either.
    /// </summary>
    private Session? TryResume(SignalingConnection connection, ResumeRequest resume)
    {
        if (!_sealer.TryUnseal(resume.Token, out var token) || token!.PeerId != resume.PeerId)
            return null;
        var age = TimeSpan.FromMilliseconds(UnixMs - token.IssuedAtMs);
        if (age > MaxTokenAge || _endedSessions.ContainsKey(token.PeerId))
            return null;

        if (_sessions.TryGetValue(token.PeerId, out var session))
        {
            var wasAway = session.IsAway;
            if (session.Connection is { } old)
            {
                // The old socket may be half-open (the server has not noticed yet); the new one wins.
                old.Session = null;
                Detach(old, null);
                old.Transport.Close(CloseCodes.TakenOver, "session taken over");
            }
            if (wasAway && session.Room is { } room)
                Broadcast(room, session, new PeerBackMessage { Room = room.Name, PeerId = session.PeerId });
            return session;
        }

        return RestoreFromToken(token, connection);
    }

    /// <summary>After a restart: recreate the session and put it back in its room, if the room can take it.</summary>
    private Session? RestoreFromToken(ResumeTokenPayload token, SignalingConnection connection)
    {
        // Present from the start, so the room hears of it as a member that is here, not away.
        var session = new Session(token.PeerId)
        {
            Name = token.Name,
            JoinedAtMs = token.JoinedAtMs,
            Audio = token.Audio,
            Video = token.Video,
            Connection = connection,
        };

        if (token.Room is { } roomName && token.Name is not null && NameRules.IsValidRoom(roomName))
        {
            var password = token.PasswordSalt is { } salt && token.PasswordHash is { } hash ? new RoomPassword(salt, hash) : null;
            if (!_rooms.TryGetValue(roomName, out var room))
            {
                room = new Room(roomName, _options.CapacityOf(roomName), password);
                _rooms.Add(roomName, room);
                Log.RoomCreated(_logger, room.Id, room.Name);
            }
            else if (room.IsFull || !SamePassword(room.Password, password))
            {
                return null;
            }
            AddMember(room, session);
        }

        _sessions.Add(session.PeerId, session);
        return session;
    }

    private static bool SamePassword(RoomPassword? a, RoomPassword? b) =>
        a is null ? b is null : b is not null && a.Salt.AsSpan().SequenceEqual(b.Salt) && a.Hash.AsSpan().SequenceEqual(b.Hash);

    private void HandleJoin(SignalingConnection connection, Session session, JoinMessage join)
    {
        if (!NameRules.TryNormalizeName(join.Name, out var name))
        {
            SendError(connection, SignalingError.InvalidName, join.Rid, "join");
            return;
        }
        if (!NameRules.IsValidRoom(join.Room))
        {
            SendError(connection, SignalingError.InvalidRoom, join.Rid, "join");
            return;
        }
        if (join.Password is { Length: > SignalingOptions.MaxPasswordLength })
        {
            SendError(connection, SignalingError.InvalidPassword, join.Rid, "join");
            return;
        }
        if (session.Room is not null)
        {
            SendError(connection, SignalingError.AlreadyInRoom, join.Rid, "join");
            return;
        }

        if (_rooms.TryGetValue(join.Room, out var room))
        {
            // Full is checked first: the next person at a full room learns nothing about its password.
            if (room.IsFull)
            {
                SendError(connection, SignalingError.RoomFull, join.Rid, "join");
                return;
            }
            if (room.Password is { } password && !password.Matches(join.Password))
            {
                Log.WrongPassword(_logger, session.PeerId, room.Id);
                SendError(connection, SignalingError.WrongPassword, join.Rid, "join");
                return;
            }
        }
        else
        {
            var password = string.IsNullOrEmpty(join.Password) ? null : RoomPassword.Create(join.Password);
            room = new Room(join.Room, _options.CapacityOf(join.Room), password);
            _rooms.Add(room.Name, room);
            Log.RoomCreated(_logger, room.Id, room.Name);
        }

        session.Name = name;
        session.JoinedAtMs = Math.Max(UnixMs, room.Members.Count == 0 ? 0 : room.Members.Max(m => m.JoinedAtMs) + 1);
        AddMember(room, session);
        Send(connection, JoinedPayload(session, room, join.Rid) with { ResumeToken = IssueToken(session) });
        Log.JoinedRoom(_logger, session.PeerId, room.Id, room.Members.Count, room.Capacity);
    }

    private void AddMember(Room room, Session session)
    {
        room.Members.Add(session);
        session.Room = room;
        foreach (var member in room.Members)
        {
            if (member != session)
                Send(member.Connection, new PeerJoinedMessage { Room = room.Name, Member = MemberAsSeenBy(session, member) });
        }
    }

    private static JoinedMessage JoinedPayload(Session session, Room room, string? rid) => new()
    {
        Rid = rid,
        Room = room.Name,
        Capacity = room.Capacity,
        PasswordProtected = room.Password is not null,
        Members = room.Members.Where(m => m != session).Select(m => MemberAsSeenBy(m, session)).ToList(),
    };

    /// <summary><paramref name="member"/> described to <paramref name="viewer"/>: polite says whether the viewer yields.</summary>
    private static Member MemberAsSeenBy(Session member, Session viewer) => new()
    {
        PeerId = member.PeerId,
        Name = member.Name ?? "",
        Polite = viewer.IsPoliteTowards(member),
        Audio = member.Audio,
        Video = member.Video,
        Away = member.IsAway,
    };

    private void HandleLeave(SignalingConnection connection, Session session, LeaveMessage leave)
    {
        if (session.Room is not { } room)
        {
            SendError(connection, SignalingError.NotInRoom, leave.Rid, "leave");
            return;
        }
        LeaveRoom(session, LeaveReasons.Left);
        Send(connection, new LeftMessage { Rid = leave.Rid, Room = room.Name, ResumeToken = IssueToken(session) });
    }

    private void HandleMedia(SignalingConnection connection, Session session, MediaMessage media)
    {
        session.Audio = media.Audio;
        session.Video = media.Video;
        if (session.Room is not { } room)
        {
            SendError(connection, SignalingError.NotInRoom, media.Rid, "media");
            return;
        }
        Broadcast(room, session, new PeerMediaMessage { Room = room.Name, PeerId = session.PeerId, Audio = media.Audio, Video = media.Video });
    }

    /// <summary>Offers, answers, candidates and restart requests travel only between members of one room.</summary>
    private void HandleRelay(SignalingConnection connection, Session session, PeerMessage message, string type)
    {
        if (session.Room is not { } room)
        {
            SendError(connection, SignalingError.NotInRoom, message.Rid, type);
            return;
        }
        if (message.To == session.PeerId || !_sessions.TryGetValue(message.To, out var target) || target.Room != room)
        {
            SendError(connection, SignalingError.UnknownPeer, message.Rid, type);
            return;
        }

        ServerMessage relayed;
        switch (message)
        {
            case SdpMessage sdp when sdp.Description.Type is not ("offer" or "answer"):
                SendError(connection, SignalingError.BadMessage("description.type must be \"offer\" or \"answer\"."), message.Rid, type);
                return;
            case SdpMessage sdp:
                relayed = new RelayedSdpMessage { From = session.PeerId, Description = sdp.Description };
                if (sdp.Description.Type == "offer")
                    NoteOffer(session, target);
                break;
            case CandidateMessage candidate:
                relayed = new RelayedCandidateMessage { From = session.PeerId, Candidate = candidate.Candidate };
                break;
            default:
                relayed = new RelayedRestartRequestMessage { From = session.PeerId };
                break;
        }
        // A peer in its grace period misses these; when it is back the impolite side restarts ICE if needed.
        Send(target.Connection, relayed);
    }
}
