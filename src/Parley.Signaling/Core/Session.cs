namespace Parley.Signaling;

/// <summary>A peer's identity on this server: outlives its sockets by the resume grace period.</summary>
internal sealed class Session(string peerId)
{
    public string PeerId { get; } = peerId;

    /// <summary>The live socket, or null while the session waits in its grace period.</summary>
    public SignalingConnection? Connection { get; set; }

    /// <summary>When the socket was lost (timestamp), meaningful while <see cref="Connection"/> is null.</summary>
    public long AwaySince { get; set; }

    public string? Name { get; set; }
    public Room? Room { get; set; }

    /// <summary>Unix ms of joining the room; decides who is polite (the later joiner) and survives restarts.</summary>
    public long JoinedAtMs { get; set; }

    public bool Audio { get; set; } = true;
    public bool Video { get; set; } = true;

    public bool IsAway => Connection is null;

    /// <summary>In every pair the later joiner is polite; the peer id breaks ties.</summary>
    public bool IsPoliteTowards(Session other) =>
        JoinedAtMs != other.JoinedAtMs
            ? JoinedAtMs > other.JoinedAtMs
            : string.CompareOrdinal(PeerId, other.PeerId) > 0;
}
