namespace Parley.Signaling.Protocol;

/// <summary>
/// An expected failure: a stable machine id (clients translate by it) plus English text for logs.
/// Errors are values, never exceptions; docs/signaling-protocol.md lists every id.
/// </summary>
public readonly record struct SignalingError(string Id, string Message)
{
    public static readonly SignalingError BadJson = new("bad-json", "The message is not a JSON object.");
    public static readonly SignalingError UnknownType = new("unknown-type", "Unknown message type.");
    public static readonly SignalingError BinaryNotSupported = new("binary-not-supported", "Binary frames are not supported; send JSON text frames.");
    public static readonly SignalingError MessageTooLarge = new("message-too-large", "The message is larger than the limit and was discarded.");
    public static readonly SignalingError RateLimited = new("rate-limited", "Too many messages; some were dropped. Slow down.");
    public static readonly SignalingError HelloRequired = new("hello-required", "Send hello first.");
    public static readonly SignalingError UnsupportedProtocol = new("unsupported-protocol", "This server speaks protocol version 1.");
    public static readonly SignalingError AlreadyWelcomed = new("already-welcomed", "This connection already said hello.");
    public static readonly SignalingError InvalidName = new("invalid-name", "The display name must have 1 to 64 characters and no control characters.");
    public static readonly SignalingError InvalidRoom = new("invalid-room", "The room name must have 1 to 64 letters, digits, '-', '_' or '.', and not start with '.'.");
    public static readonly SignalingError InvalidPassword = new("invalid-password", "The room password may have at most 128 characters.");
    public static readonly SignalingError RoomFull = new("room-full", "This room is full.");
    public static readonly SignalingError WrongPassword = new("wrong-password", "The room password is not correct.");
    public static readonly SignalingError AlreadyInRoom = new("already-in-room", "Already in a room; leave it first.");
    public static readonly SignalingError NotInRoom = new("not-in-room", "Join a room first.");
    public static readonly SignalingError UnknownPeer = new("unknown-peer", "That peer is not a member of your room.");
    public static readonly SignalingError ServerFull = new("server-full", "The server has too many connections; try again later.");
    public static readonly SignalingError OriginNotAllowed = new("origin-not-allowed", "Pages from this origin may not use this server's signaling.");
    public static readonly SignalingError ServerDraining = new("server-draining", "The server is shutting down or restarting; reconnect shortly (or to another node).");
    public static readonly SignalingError RoomClosed = new("room-closed", "The host closed this room.");
    public static readonly SignalingError SessionClosed = new("session-closed", "The host disconnected this session.");
    public static readonly SignalingError HelloTimeout = new("hello-timeout", "No hello arrived in time.");
    public static readonly SignalingError Internal = new("internal", "The server hit an internal error; the connection is closed.");

    public static SignalingError BadMessage(string detail) => new("bad-message", detail);

    public static SignalingError InvalidCallReport(string detail) => new("invalid-call-report", detail);
}
