using Parley.Stun;

namespace Parley.Turn;

/// <summary>The transport between a client and the server (RFC 8656 §3.1: UDP, TCP or TLS-over-TCP).</summary>
public enum TurnTransportProtocol : byte
{
    /// <summary>UDP.</summary>
    Udp,

    /// <summary>TCP.</summary>
    Tcp,

    /// <summary>TLS over TCP.</summary>
    Tls,
}

/// <summary>
/// Where the server sends packets to clients: one UDP listener socket (many clients), or one TCP/TLS connection
/// (one client). Implemented by the host over real sockets and by tests in memory.
/// </summary>
public interface ITurnClientTransport
{
    /// <summary>UDP, TCP or TLS.</summary>
    TurnTransportProtocol Protocol { get; }

    /// <summary>The server's transport address of this listener or connection (the server side of the 5-tuple).</summary>
    TransportAddress LocalAddress { get; }

    /// <summary>
    /// Sends one STUN or ChannelData message to <paramref name="client"/> (for a connection, its one peer). Must not
    /// block and must copy <paramref name="packet"/> if it keeps it: the span is the caller's scratch buffer. A packet
    /// that cannot be sent now is dropped, as UDP would.
    /// </summary>
    void Send(ReadOnlySpan<byte> packet, in TransportAddress client);
}

/// <summary>Receives what peers send to a relayed transport address (implemented by the core).</summary>
public interface IRelayReceiver
{
    /// <summary>
    /// One UDP datagram from <paramref name="peer"/> arrived at the relay socket. The span is valid only during the call.
    /// </summary>
    void OnPeerPacket(ReadOnlySpan<byte> data, in TransportAddress peer);
}

/// <summary>One bound relay socket: the relayed transport address of an allocation (RFC 8656 §2).</summary>
public interface IRelaySocket : IDisposable
{
    /// <summary>The address and port the socket is bound to.</summary>
    TransportAddress LocalAddress { get; }

    /// <summary>Sends one UDP datagram to <paramref name="peer"/>; drops it silently if it cannot be sent now.</summary>
    void SendTo(ReadOnlySpan<byte> data, in TransportAddress peer);

    /// <summary>Starts delivering received datagrams to <paramref name="receiver"/>.</summary>
    void Start(IRelayReceiver receiver);
}

/// <summary>Binds relay sockets (real UDP sockets in the host, in-memory ones in tests).</summary>
public interface IRelaySocketFactory
{
    /// <summary>
    /// Binds a UDP socket to <paramref name="address"/> (address and port). False if that port is in use: the core
    /// then tries another port of the range, and answers 508 (Insufficient Capacity) when none is left.
    /// </summary>
    bool TryBind(TransportAddress address, out IRelaySocket? socket);
}
