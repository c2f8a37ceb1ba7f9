namespace Parley.Signaling;

/// <summary>
/// One client socket as the hub sees it. The WebSocket adapter implements it; unit tests use an in-memory one.
/// Both methods are called under the hub's lock, so they must not block.
/// </summary>
public interface ISignalingTransport
{
    /// <summary>Short id for logs.</summary>
    string Id { get; }

    /// <summary>The host the client used to reach the server (HTTP Host header), for <c>{host}</c> in ICE URLs.</summary>
    string? RequestHost => null;

    /// <summary>Queues one UTF-8 JSON text message. False when the socket's queue is full (a slow or dead client).</summary>
    bool TrySend(ReadOnlyMemory<byte> utf8Json);

    /// <summary>Sends what is queued, then closes with <paramref name="status"/>. Idempotent.</summary>
    void Close(int status, string reason);
}

/// <summary>WebSocket close codes the server uses (docs/signaling-protocol.md).</summary>
public static class CloseCodes
{
    public const int Normal = 1000;
    public const int GoingAway = 1001;
    public const int PolicyViolation = 1008;
    public const int InternalError = 1011;
    public const int TryAgainLater = 1013;
    public const int ProtocolError = 4000;
    public const int TakenOver = 4001;
    public const int HeartbeatTimeout = 4002;
    public const int RoomClosed = 4003;
    public const int SessionClosed = 4004;
}
