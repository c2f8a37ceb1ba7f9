using Microsoft.Extensions.Logging;

namespace Parley.Turn.Hosting;

// Event ids 2100-2199: TURN sockets and hosting.
internal static partial class Log
{
    [LoggerMessage(2100, LogLevel.Information, "TURN listening on {Protocol} {EndPoint}")]
    public static partial void Listening(ILogger logger, string protocol, string endPoint);

    [LoggerMessage(2101, LogLevel.Information, "TURN server disabled (Turn:Enabled is false)")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(2102, LogLevel.Debug, "{Protocol} connection {ConnectionId} from {Remote} opened")]
    public static partial void ConnectionOpened(ILogger logger, string protocol, long connectionId, string remote);

    [LoggerMessage(2103, LogLevel.Debug, "{Protocol} connection {ConnectionId} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string protocol, long connectionId, string reason);

    [LoggerMessage(2104, LogLevel.Warning, "Receive loop on {EndPoint} failed; it stops")]
    public static partial void ReceiveLoopFailed(ILogger logger, Exception exception, string endPoint);

    [LoggerMessage(2105, LogLevel.Debug, "TLS handshake of connection {ConnectionId} from {Remote} failed")]
    public static partial void TlsHandshakeFailed(ILogger logger, Exception exception, long connectionId, string remote);

    [LoggerMessage(2106, LogLevel.Trace, "Send to {Remote} failed: {Error}")]
    public static partial void SendFailed(ILogger logger, string remote, string error);

    [LoggerMessage(2107, LogLevel.Warning, "{Protocol} listener {EndPoint} is at its limit of {Limit} connections; a new one was closed")]
    public static partial void StreamConnectionLimit(ILogger logger, string protocol, string endPoint, int limit);

    [LoggerMessage(2108, LogLevel.Warning, "Handling a datagram from {Remote} failed; it was dropped")]
    public static partial void DatagramFailed(ILogger logger, Exception exception, string remote);
}
