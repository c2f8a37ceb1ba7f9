namespace Parley.Signaling;

/// <summary>Configuration of the signaling service (section "Signaling"). docs/configuration.md mirrors it.</summary>
public sealed class SignalingOptions
{
    public const string SectionName = "Signaling";

    /// <summary>People per room (full mesh), 1–8. Default 4: a mesh beyond that strains every uplink.</summary>
    public int RoomCapacity { get; set; } = 4;

    /// <summary>Per-room capacity overrides by room name, each 1–8.</summary>
    public Dictionary<string, int> RoomCapacities { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Concurrent sessions (open sockets plus sessions in their grace period). Default 10 000.</summary>
    public int MaxSessions { get; set; } = 10_000;

    /// <summary>How often clients ping. Default 20 s: well inside the 60 s idle timeout of common proxies.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Silence after which the server drops a socket. Default 45 s (two missed pings and a margin).</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How long a session whose socket was lost can be resumed. Default 30 s.</summary>
    public TimeSpan ResumeGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a new socket has to say hello. Default 10 s.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest accepted message in bytes. Default 64 KiB (an SDP offer is 3–10 KiB).</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Average messages per second per socket; bursts of twice that are allowed. Default 50.</summary>
    public int MessagesPerSecond { get; set; } = 50;

    /// <summary>Messages queued for one slow socket before it is dropped. Default 256.</summary>
    public int SendQueueLength { get; set; } = 256;

    /// <summary>
    /// Base64 of 32 random bytes sealing resume tokens. Empty: generated once and kept in
    /// <see cref="DataDirectory"/>, so sessions survive a restart. Set it (the same on every node) to share it.
    /// </summary>
    public string? ResumeKey { get; set; }

    /// <summary>Where Parley keeps its generated keys. Default: ~/.local/share/parley (LocalApplicationData).</summary>
    public string? DataDirectory { get; set; }

    /// <summary><see cref="DataDirectory"/>, or the default when it is not set.</summary>
    public string EffectiveDataDirectory => DataDirectory is { Length: > 0 } configured ? configured : PersistentSecret.DefaultDirectory;

    /// <summary>
    /// Web origins (e.g. <c>https://app.example.org</c>) whose pages may open the signaling WebSocket besides pages
    /// served from this server's own host name; <c>*</c> allows any. Default none: another site's page cannot use
    /// this server (a LAN server included) from its visitors' browsers. Clients that send no Origin are not browsers
    /// and are let in.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>ICE servers handed to browsers in the welcome message.</summary>
    public List<IceServerOptions> IceServers { get; set; } = [];

    /// <summary>
    /// Lifetime of TURN credentials minted from a shared secret. Default 1 h; clients fetch fresh ones before
    /// they expire and before every ICE restart.
    /// </summary>
    public TimeSpan TurnCredentialLifetime { get; set; } = TimeSpan.FromHours(1);

    public const int MaxRoomCapacity = 8;
    public const int MaxNameLength = 64;
    public const int MaxRoomNameLength = 64;
    public const int MaxPasswordLength = 128;

    public int CapacityOf(string room) =>
        RoomCapacities.TryGetValue(room, out var capacity) ? capacity : RoomCapacity;
}

/// <summary>One STUN or TURN server, as an RTCIceServer.</summary>
public sealed class IceServerOptions
{
    /// <summary>URLs such as "stun:stun.example.org:3478" or "turn:turn.example.org:3478?transport=udp".</summary>
    public List<string> Urls { get; set; } = [];

    /// <summary>Static TURN username. Prefer <see cref="SharedSecret"/>: static credentials never expire.</summary>
    public string? Username { get; set; }

    public string? Credential { get; set; }

    /// <summary>
    /// The TURN server's shared secret (coturn: <c>use-auth-secret</c> + <c>static-auth-secret</c>). When set, every
    /// browser gets its own credentials valid for <see cref="SignalingOptions.TurnCredentialLifetime"/>.
    /// </summary>
    public string? SharedSecret { get; set; }
}
