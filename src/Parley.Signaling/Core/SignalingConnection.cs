namespace Parley.Signaling;

/// <summary>
/// One socket attached to the hub. The transport reports what arrives; the hub does the rest.
/// Every method is safe to call from the transport's receive loop; none throws for client input.
/// </summary>
public sealed class SignalingConnection
{
    private readonly SignalingHub _hub;

    internal SignalingConnection(SignalingHub hub, ISignalingTransport transport, TokenBucket rate, long openedAt)
    {
        _hub = hub;
        Transport = transport;
        Rate = rate;
        OpenedAt = openedAt;
        LastReceivedAt = openedAt;
    }

    internal ISignalingTransport Transport { get; }
    internal TokenBucket Rate { get; }
    internal long OpenedAt { get; }
    internal long LastReceivedAt { get; set; }
    internal long LastRateLimitErrorAt { get; set; } = long.MinValue;
    internal Session? Session { get; set; }

    /// <summary>Detached from the hub: closed by either side or taken over by a resumed socket.</summary>
    internal bool IsDetached { get; set; }

    /// <summary>The session's peer id once welcomed (for logs).</summary>
    public string? PeerId => Session?.PeerId;

    /// <summary>A complete text message arrived.</summary>
    public void Receive(ReadOnlySpan<byte> utf8) => _hub.OnReceive(this, utf8);

    /// <summary>A binary message arrived (not part of the protocol).</summary>
    public void ReceiveBinary() => _hub.OnUnreadable(this, Protocol.SignalingError.BinaryNotSupported);

    /// <summary>A message larger than the limit arrived and was discarded.</summary>
    public void ReceiveOversized() => _hub.OnUnreadable(this, Protocol.SignalingError.MessageTooLarge);

    /// <summary>The socket is gone. <paramref name="clientCloseStatus"/> is the status the client sent, if it sent one.</summary>
    public void Disconnected(int? clientCloseStatus) => _hub.OnDisconnected(this, clientCloseStatus);
}
