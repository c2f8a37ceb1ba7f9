using System.Text.Json.Serialization;

namespace Parley.Signaling.Protocol;

// Messages the server sends; serialized as ServerMessage so "type" comes first.

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(WelcomeMessage), "welcome")]
[JsonDerivedType(typeof(JoinedMessage), "joined")]
[JsonDerivedType(typeof(LeftMessage), "left")]
[JsonDerivedType(typeof(PeerJoinedMessage), "peer-joined")]
[JsonDerivedType(typeof(PeerLeftMessage), "peer-left")]
[JsonDerivedType(typeof(PeerAwayMessage), "peer-away")]
[JsonDerivedType(typeof(PeerBackMessage), "peer-back")]
[JsonDerivedType(typeof(PeerMediaMessage), "peer-media")]
[JsonDerivedType(typeof(RelayedSdpMessage), "sdp")]
[JsonDerivedType(typeof(RelayedCandidateMessage), "candidate")]
[JsonDerivedType(typeof(RelayedRestartRequestMessage), "restart-request")]
[JsonDerivedType(typeof(PongMessage), "pong")]
[JsonDerivedType(typeof(IceServersMessage), "ice-servers")]
[JsonDerivedType(typeof(ErrorMessage), "error")]
public abstract record ServerMessage
{
    [JsonPropertyName("rid")]
    public string? Rid { get; init; }
}

public sealed record WelcomeMessage : ServerMessage
{
    public required int Protocol { get; init; }
    public required string PeerId { get; init; }
    public required string ResumeToken { get; init; }
    public required bool Resumed { get; init; }
    public JoinedMessage? Room { get; init; }
    public required IReadOnlyList<IceServer> IceServers { get; init; }
    /// <summary>When minted TURN credentials expire (Unix ms); absent when none are minted.</summary>
    public long? IceServersExpireAtMs { get; init; }
    public required int HeartbeatIntervalMs { get; init; }
    public required int HeartbeatTimeoutMs { get; init; }
    public required int ResumeGraceMs { get; init; }
    public required ProtocolLimits Limits { get; init; }
}

/// <summary>RTCIceServer as the browser expects it.</summary>
public sealed record IceServer
{
    public required IReadOnlyList<string> Urls { get; init; }
    public string? Username { get; init; }
    public string? Credential { get; init; }
}

public sealed record ProtocolLimits
{
    public required int MaxMessageBytes { get; init; }
    public required int MessagesPerSecond { get; init; }
    public required int MaxNameLength { get; init; }
    public required int MaxRoomLength { get; init; }
    public required int MaxRoomCapacity { get; init; }
}

public sealed record Member
{
    public required string PeerId { get; init; }
    public required string Name { get; init; }
    /// <summary>Whether the receiver of this message is the polite side towards this member.</summary>
    public required bool Polite { get; init; }
    public required bool Audio { get; init; }
    public required bool Video { get; init; }
    public required bool Away { get; init; }
}

public sealed record JoinedMessage : ServerMessage
{
    public required string Room { get; init; }
    public required int Capacity { get; init; }
    public required bool PasswordProtected { get; init; }
    public required IReadOnlyList<Member> Members { get; init; }
    /// <summary>A fresh token naming the room, so a resume after a restart can restore membership.</summary>
    public string? ResumeToken { get; init; }
}

public sealed record LeftMessage : ServerMessage
{
    public required string Room { get; init; }
    public string? ResumeToken { get; init; }
}

public sealed record PeerJoinedMessage : ServerMessage
{
    public required string Room { get; init; }
    public required Member Member { get; init; }
}

public sealed record PeerLeftMessage : ServerMessage
{
    public required string Room { get; init; }
    public required string PeerId { get; init; }
    public required string Reason { get; init; }
}

public sealed record PeerAwayMessage : ServerMessage
{
    public required string Room { get; init; }
    public required string PeerId { get; init; }
}

public sealed record PeerBackMessage : ServerMessage
{
    public required string Room { get; init; }
    public required string PeerId { get; init; }
}

public sealed record PeerMediaMessage : ServerMessage
{
    public required string Room { get; init; }
    public required string PeerId { get; init; }
    public required bool Audio { get; init; }
    public required bool Video { get; init; }
}

public sealed record RelayedSdpMessage : ServerMessage
{
    public required string From { get; init; }
    public required SessionDescription Description { get; init; }
}

public sealed record RelayedCandidateMessage : ServerMessage
{
    public required string From { get; init; }
    // Written even when null: null is the end-of-candidates signal.
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required IceCandidate? Candidate { get; init; }
}

public sealed record RelayedRestartRequestMessage : ServerMessage
{
    public required string From { get; init; }
}

public sealed record PongMessage : ServerMessage
{
    public required string ResumeToken { get; init; }
}

public sealed record IceServersMessage : ServerMessage
{
    public required IReadOnlyList<IceServer> IceServers { get; init; }
    public long? ExpireAtMs { get; init; }
}

public sealed record ErrorMessage : ServerMessage
{
    public required string Id { get; init; }
    public required string Message { get; init; }
    public string? Ref { get; init; }
}

/// <summary>Why a member left a room, as sent in peer-left.</summary>
public static class LeaveReasons
{
    public const string Left = "left";
    public const string Timeout = "timeout";
    public const string Kicked = "kicked";
}

/// <summary>The HTTP body of a WebSocket handshake refused before the upgrade (<c>origin-not-allowed</c>).</summary>
public sealed record OriginRefusal(string Error, string Message);
