using System.Text.Json.Serialization;

namespace Parley.Signaling.Protocol;

// Messages a client sends; docs/signaling-protocol.md is the contract. The "type" field picks the record
// (see ClientMessageReader); unknown fields are ignored so clients can add optional ones.

/// <summary>Base of every client message: an optional request id echoed in replies.</summary>
public abstract record ClientMessage
{
    [JsonPropertyName("rid")]
    public string? Rid { get; init; }
}

public sealed record HelloMessage : ClientMessage
{
    public required int Protocol { get; init; }
    public ResumeRequest? Resume { get; init; }
    public string? Client { get; init; }
}

public sealed record ResumeRequest
{
    public required string PeerId { get; init; }
    public required string Token { get; init; }
}

public sealed record JoinMessage : ClientMessage
{
    public required string Room { get; init; }
    public required string Name { get; init; }
    public string? Password { get; init; }
}

public sealed record LeaveMessage : ClientMessage;

public sealed record ByeMessage : ClientMessage;

public sealed record PingMessage : ClientMessage;

/// <summary>Asks for the ICE server list again (fresh TURN credentials).</summary>
public sealed record IceServersRequest : ClientMessage;

public sealed record MediaMessage : ClientMessage
{
    public required bool Audio { get; init; }
    public required bool Video { get; init; }
}

/// <summary>A message addressed to one other member of the sender's room.</summary>
public abstract record PeerMessage : ClientMessage
{
    public required string To { get; init; }
}

public sealed record SdpMessage : PeerMessage
{
    public required SessionDescription Description { get; init; }
}

public sealed record CandidateMessage : PeerMessage
{
    /// <summary>Null means end-of-candidates.</summary>
    public IceCandidate? Candidate { get; init; }
}

public sealed record RestartRequestMessage : PeerMessage;

/// <summary>RTCSessionDescriptionInit; only offers and answers travel.</summary>
public sealed record SessionDescription
{
    public required string Type { get; init; }
    public required string Sdp { get; init; }
}

/// <summary>RTCIceCandidateInit.</summary>
public sealed record IceCandidate
{
    public required string Candidate { get; init; }
    public string? SdpMid { get; init; }
    public int? SdpMLineIndex { get; init; }
    public string? UsernameFragment { get; init; }
}
