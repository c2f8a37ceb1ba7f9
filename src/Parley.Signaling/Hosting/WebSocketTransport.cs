using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Parley.Signaling.Hosting;

/// <summary>
/// Carries one WebSocket for the hub: a receive loop that enforces the message size limit, and a send loop fed
/// by a bounded queue so a slow client never blocks the hub or anyone else.
/// </summary>
internal sealed class WebSocketTransport : ISignalingTransport, IDisposable
{
    private static long s_nextId;
    private readonly WebSocket _socket;
    private readonly Channel<ReadOnlyMemory<byte>> _outbox;
    private readonly ILogger _logger;
    // Once the server closes, a client that never answers the close handshake is cut off after this.
    private readonly CancellationTokenSource _closeDeadline = new();
    private int _closeStatus;
    private string _closeReason = "";

    public WebSocketTransport(WebSocket socket, string? requestHost, int queueLength, ILogger logger)
    {
        _socket = socket;
        RequestHost = requestHost;
        _logger = logger;
        _outbox = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(queueLength)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Id = "ws-" + Interlocked.Increment(ref s_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public string Id { get; }

    public string? RequestHost { get; }

    public bool TrySend(ReadOnlyMemory<byte> utf8Json) => _outbox.Writer.TryWrite(utf8Json);

    public void Close(int status, string reason)
    {
        if (Interlocked.CompareExchange(ref _closeStatus, status, 0) == 0)
        {
            _closeReason = reason;
            _outbox.Writer.TryComplete();
            try
            {
                _closeDeadline.CancelAfter(TimeSpan.FromSeconds(5));
            }
            catch (ObjectDisposedException)
            {
                // The socket already finished.
            }
        }
    }

    /// <summary>Runs the socket until it closes; reports everything to <paramref name="connection"/>.</summary>
    public async Task RunAsync(SignalingConnection connection, int maxMessageBytes, CancellationToken aborted)
    {
        using var receiveAborted = CancellationTokenSource.CreateLinkedTokenSource(aborted, _closeDeadline.Token);
        var sending = SendLoopAsync(aborted);
        int? clientCloseStatus = null;
        var buffer = ArrayPool<byte>.Shared.Rent(maxMessageBytes);
        try
        {
            clientCloseStatus = await ReceiveLoopAsync(connection, buffer, maxMessageBytes, receiveAborted.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The network went away without a close handshake: the session gets its grace period.
        }
        catch (Exception e)
        {
            Log.ConnectionFailed(_logger, e, Id, connection.PeerId);
            Close(CloseCodes.InternalError, "internal error");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            connection.Disconnected(clientCloseStatus);
            Close(CloseCodes.Normal, "");
        }

        // Let the send loop flush what is queued and finish the close handshake, but never wait forever.
        await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        if (!sending.IsCompleted)
            _socket.Abort();
    }

    public void Dispose() => _closeDeadline.Dispose();

    /// <summary>For a socket the hub refused: send what is queued (the error), close, and stop.</summary>
    public async Task FlushAndCloseAsync(CancellationToken aborted)
    {
        var sending = SendLoopAsync(aborted);
        await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        _socket.Abort();
    }

    private async Task<int?> ReceiveLoopAsync(SignalingConnection connection, byte[] buffer, int maxMessageBytes, CancellationToken aborted)
    {
        while (true)
        {
            var length = 0;
            var oversized = false;
            ValueWebSocketReceiveResult result;
            do
            {
                // Once a message is over the limit, keep draining it into the start of the buffer and drop it.
                var free = oversized ? buffer.AsMemory(0, maxMessageBytes) : buffer.AsMemory(length, maxMessageBytes - length);
                if (free.Length == 0)
                {
                    oversized = true;
                    free = buffer.AsMemory(0, maxMessageBytes);
                }
                result = await _socket.ReceiveAsync(free, aborted);
                if (result.MessageType == WebSocketMessageType.Close)
                    return (int?)_socket.CloseStatus;
                if (!oversized)
                    length += result.Count;
            }
            while (!result.EndOfMessage);

            if (oversized)
                connection.ReceiveOversized();
            else if (result.MessageType == WebSocketMessageType.Binary)
                connection.ReceiveBinary();
            else
                connection.Receive(buffer.AsSpan(0, length));
        }
    }

    private async Task SendLoopAsync(CancellationToken aborted)
    {
        try
        {
            await foreach (var message in _outbox.Reader.ReadAllAsync(aborted))
                await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, aborted);

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _socket.CloseOutputAsync((WebSocketCloseStatus)_closeStatus, _closeReason, aborted);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer is gone; the receive loop reports it.
        }
    }
}
