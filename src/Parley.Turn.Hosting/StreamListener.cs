using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Parley.Stun;
using Parley.Turn.Hosting.Linux;

namespace Parley.Turn.Hosting;

/// <summary>
/// TURN over TCP or TLS (RFC 8656 §3.1): an accept loop, and per connection a read loop that cuts frames with
/// <see cref="StreamFramer"/> (ChannelData padded to four bytes, §12.5) and a write loop fed by a bounded queue, so
/// that the core's <see cref="ITurnClientTransport.Send"/> never blocks (a slow client loses packets, as over UDP).
/// </summary>
internal sealed class StreamListener : IDisposable
{
    private static long s_nextConnectionId;
    private readonly Socket _listener;
    private readonly X509Certificate2? _certificate;
    private readonly TurnServer _server;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _maxConnections;
    private int _openConnections;

    public StreamListener(IPEndPoint endPoint, X509Certificate2? certificate, TurnServer server, int maxConnections, ILogger logger)
    {
        _maxConnections = maxConnections;
        _certificate = certificate;
        _server = server;
        _logger = logger;
        _listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                _listener.DualMode = false;
            }

            _listener.Bind(endPoint);
            _listener.Listen(512);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
    }

    public TurnTransportProtocol Protocol => _certificate is null ? TurnTransportProtocol.Tcp : TurnTransportProtocol.Tls;

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public async Task Run()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            // Every connection holds a thread (plain TCP) or a TLS session: refuse beyond the limit.
            if (Interlocked.Increment(ref _openConnections) > _maxConnections)
            {
                Interlocked.Decrement(ref _openConnections);
                Log.StreamConnectionLimit(_logger, Protocol.ToString(), EndPoint.ToString(), _maxConnections);
                socket.Dispose();
                continue;
            }

            socket.NoDelay = true;
            if (_certificate is null)
            {
                StartPlainConnection(socket);
            }
            else
            {
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await RunConnection(socket).ConfigureAwait(false);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _openConnections);
                    }
                });
            }
        }
    }

    private async Task RunConnection(Socket socket)
    {
        long id = NextConnectionId();
        var remote = TransportAddress.FromIPEndPoint((IPEndPoint)socket.RemoteEndPoint!);
        var local = TransportAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);
        string protocol = Protocol.ToString();
        Log.ConnectionOpened(_logger, protocol, id, remote.ToString());
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            if (_certificate is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                handshakeTimeout.CancelAfter(TimeSpan.FromSeconds(10));
                try
                {
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate },
                        handshakeTimeout.Token).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    Log.TlsHandshakeFailed(_logger, exception, id, remote.ToString());
                    Log.ConnectionClosed(_logger, protocol, id, "TLS handshake failed");
                    return;
                }
            }

            await RunSession(_server, _logger, id, Protocol, local, remote, stream, stream, _stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static long NextConnectionId() => Interlocked.Increment(ref s_nextConnectionId);

    /// <summary>
    /// One TURN session over a stream whose TLS (if any) is done: the read loop hands frames to the core, the write
    /// loop sends what the core answers, and the core forgets the 5-tuple's allocation when it ends. Used by this
    /// listener's TLS connections and by connections another server accepted (<see cref="TurnStreamHandler"/>).
    /// The caller disposes the streams.
    /// </summary>
    internal static async Task RunSession(TurnServer server, ILogger logger, long id, TurnTransportProtocol protocol,
        TransportAddress local, TransportAddress remote, Stream input, Stream output, CancellationToken stopping)
    {
        string reason = "closed by client";
        using var connection = new StreamConnection(protocol, local, remote, stopping);
        try
        {
            Task writer = connection.WriteLoop(output);
            reason = await ReadLoop(server, input, connection, remote, stopping).ConfigureAwait(false);
            connection.Complete();
            await writer.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            reason = exception.GetType().Name;
        }
        finally
        {
            server.OnConnectionClosed(connection, remote);
            Log.ConnectionClosed(logger, protocol.ToString(), id, reason);
        }
    }

    private static async Task<string> ReadLoop(TurnServer server, Stream stream, StreamConnection connection, TransportAddress remote,
        CancellationToken stopping)
    {
        // Room for the largest frame: a STUN message of 20 + 65532 bytes, or ChannelData of 4 + 65535 + padding.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StunHeader.MaxMessageLength + 8);
        try
        {
            int start = 0, end = 0;
            while (true)
            {
                if (!DeliverFrames(server, buffer, ref start, ref end, connection, remote))
                {
                    return "not STUN or ChannelData";
                }

                int read = await stream.ReadAsync(buffer.AsMemory(end), stopping).ConfigureAwait(false);
                if (read == 0)
                {
                    return "closed by client";
                }

                end += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Hands every complete frame in <c>buffer[start..end)</c> to the core, then moves what is left (the start of an
    /// incomplete frame) to the front, so that the next read goes to <c>buffer[end..]</c>. False if the stream holds
    /// something that is neither STUN nor ChannelData.
    /// </summary>
    private static bool DeliverFrames(TurnServer server, byte[] buffer, ref int start, ref int end, StreamConnection connection, in TransportAddress remote)
    {
        if (end == start)
        {
            start = end = 0;
            return true;
        }

        // Several frames at once (a busy client): what the core sends for them (to relay sockets, and answers on this
        // connection) goes out together at the end, one sendmmsg(2) per socket. One frame goes as it is.
        ReadResult first = StreamFramer.TryGetFrame(buffer.AsSpan(start, end - start), out _);
        UdpSendBatch? batch = first.IsComplete && first.Consumed < end - start ? UdpSendBatch.BeginBorrowed() : null;
        try
        {
            return DeliverEachFrame(server, buffer, ref start, ref end, connection, remote);
        }
        finally
        {
            if (batch is not null)
            {
                UdpSendBatch.EndBorrowed(batch);
            }
        }
    }

    private static bool DeliverEachFrame(TurnServer server, byte[] buffer, ref int start, ref int end, StreamConnection connection, in TransportAddress remote)
    {
        while (true)
        {
            ReadResult frame = StreamFramer.TryGetFrame(buffer.AsSpan(start, end - start), out _);
            if (frame.Status == ReadStatus.Invalid)
            {
                return false;
            }

            if (!frame.IsComplete)
            {
                break;
            }

            server.OnClientPacket(connection, remote, buffer.AsSpan(start, frame.Consumed));
            start += frame.Consumed;
        }

        if (start > 0)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }

        return true;
    }

    /// <summary>
    /// Plain TCP runs each connection on a dedicated thread, as the UDP sockets do (see <see cref="UdpSend"/>): it
    /// waits in poll(2) and reads synchronously, and the core's sends go straight to the socket
    /// (<see cref="StreamConnection.UseDirectSends"/>). That replaces two thread-pool hops per relayed round trip (the
    /// read completion and the write loop) and the spinning of idle workers. TLS keeps the async path
    /// (<see cref="RunConnection"/>), as SslStream wants one writer.
    /// </summary>
    private void StartPlainConnection(Socket socket)
    {
        var thread = new Thread(
            () =>
            {
                try
                {
                    RunPlainConnection(socket);
                }
                catch (Exception exception)
                {
                    // A bug (or the listener disposed under us): drop this connection, never the server. An exception
                    // must not leave a thread of its own: that would end the process.
                    Log.ReceiveLoopFailed(_logger, exception, "TCP connection");
                    socket.Dispose();
                }
                finally
                {
                    Interlocked.Decrement(ref _openConnections);
                }
            },
            ConnectionThreadStackBytes)
        {
            IsBackground = true,
            Name = "TURN TCP",
        };
        thread.UnsafeStart();
    }

    // As for the UDP receive threads: the frames on this thread are small.
    private const int ConnectionThreadStackBytes = 256 * 1024;

    private void RunPlainConnection(Socket socket)
    {
        long id = NextConnectionId();
        TransportAddress remote, local;
        try
        {
            remote = TransportAddress.FromIPEndPoint((IPEndPoint)socket.RemoteEndPoint!);
            local = TransportAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            socket.Dispose(); // reset before we looked at it
            return;
        }

        string protocol = Protocol.ToString();
        Log.ConnectionOpened(_logger, protocol, id, remote.ToString());

        // The stream only serves the write loop, for what the kernel does not take at once.
        var stream = new NetworkStream(socket, ownsSocket: true);
        string reason = "closed by client";
        using var connection = new StreamConnection(Protocol, local, remote, _stopping.Token);
        try
        {
            connection.UseDirectSends(socket);
            Task writer = connection.WriteLoop(stream);

            // Stopping the listener wakes the poll below: shutdown(2) makes the socket readable (end of stream).
            using (_stopping.Token.UnsafeRegister(static state => ShutdownQuietly((Socket)state!), socket))
            {
                reason = ReadLoop(socket, connection, remote);
            }

            connection.Complete();
            writer.GetAwaiter().GetResult();
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            reason = exception.GetType().Name;
        }
        finally
        {
            _server.OnConnectionClosed(connection, remote);
            stream.Dispose();
            Log.ConnectionClosed(_logger, protocol, id, reason);
        }
    }

    private string ReadLoop(Socket socket, StreamConnection connection, in TransportAddress remote)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StunHeader.MaxMessageLength + 8);
        try
        {
            int start = 0, end = 0;
            while (true)
            {
                if (!DeliverFrames(_server, buffer, ref start, ref end, connection, remote))
                {
                    return "not STUN or ChannelData";
                }

                // Non-blocking socket (for the direct sends): wait until readable, then read what is there.
                if (!socket.Poll(-1, SelectMode.SelectRead))
                {
                    continue;
                }

                int read = socket.Receive(buffer.AsSpan(end), SocketFlags.None, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    continue;
                }

                if (error != SocketError.Success)
                {
                    return error.ToString();
                }

                if (read == 0)
                {
                    return _stopping.IsCancellationRequested ? "server stopping" : "closed by client";
                }

                end += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ShutdownQuietly(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Dispose();
        _stopping.Dispose();
    }
}

/// <summary>One TCP/TLS client connection as the core sees it.</summary>
internal sealed class StreamConnection(TurnTransportProtocol protocol, TransportAddress local, TransportAddress remote, CancellationToken stopping)
    : ITurnClientTransport, IDeferredSender, IDisposable
{
    private const int WriteBatchBytes = 64 * 1024;

    private readonly Channel<(byte[] Buffer, int Length)> _queue = Channel.CreateBounded<(byte[], int)>(
        new BoundedChannelOptions(512) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    public TurnTransportProtocol Protocol => protocol;

    public TransportAddress LocalAddress => local;

    public TransportAddress Remote => remote;

    // Plain TCP: frames go straight to the (non-blocking) socket on the sender's thread while nothing is queued,
    // which saves a wake-up of the write loop per frame. Guarded by _sendGate: _queued says frames are queued or being
    // written by the write loop, so later frames must queue behind them to keep the stream in order.
    private readonly Lock _sendGate = new();
    private Socket? _direct;
    private bool _queued;
    private byte[]? _pending;
    private int _pendingLength;

    /// <summary>
    /// Plain TCP only (TLS needs SslStream): sends try <paramref name="socket"/> directly first; what the kernel does
    /// not take at once (a full send buffer: a slow client) goes through the queue. Makes the socket non-blocking,
    /// so call it after wrapping the socket in its NetworkStream.
    /// </summary>
    public void UseDirectSends(Socket socket)
    {
        socket.Blocking = false;
        _direct = socket;
    }

    public void Send(ReadOnlySpan<byte> packet, in TransportAddress client)
    {
        if (_direct is not { } socket)
        {
            Enqueue(packet);
            return;
        }

        UdpSendBatch? batch = UdpSendBatch.Current;
        lock (_sendGate)
        {
            // What a loop thread deferred goes first, to keep the stream in order.
            if (_pendingLength > 0 && (batch is null || _pendingLength + packet.Length > _pending!.Length))
            {
                WritePending(socket);
            }

            if (_queued)
            {
                Enqueue(packet);
                return;
            }

            // On an event-loop thread (or a TCP thread handing several frames to the core): collect this round's frames
            // and write them in one send at its end (SendDeferred).
            if (batch is not null && packet.Length <= WriteBatchBytes)
            {
                if (_pending is null)
                {
                    _pending = ArrayPool<byte>.Shared.Rent(WriteBatchBytes);
                    batch.Defer(this);
                }

                packet.CopyTo(_pending.AsSpan(_pendingLength));
                _pendingLength += packet.Length;
                return;
            }

            WriteNow(socket, packet);
        }
    }

    /// <summary>The end of a loop thread's round: writes what it deferred.</summary>
    public void SendDeferred()
    {
        lock (_sendGate)
        {
            if (_direct is { } socket && _pendingLength > 0)
            {
                WritePending(socket);
            }

            if (_pending is { } pending)
            {
                ArrayPool<byte>.Shared.Return(pending);
                _pending = null;
            }
        }
    }

    // Under _sendGate.
    private void WritePending(Socket socket)
    {
        ReadOnlySpan<byte> pending = _pending.AsSpan(0, _pendingLength);
        _pendingLength = 0;
        if (_queued)
        {
            Enqueue(pending);
        }
        else
        {
            WriteNow(socket, pending);
        }
    }

    // Under _sendGate with nothing queued: to the kernel now; what it does not take at once (a full send buffer: a slow
    // client) is queued for the write loop, and later frames queue behind it.
    private void WriteNow(Socket socket, ReadOnlySpan<byte> data)
    {
        int sent;
        SocketError error;
        try
        {
            sent = socket.Send(data, SocketFlags.None, out error);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        if (error == SocketError.Success && sent == data.Length)
        {
            return;
        }

        if (error is not (SocketError.Success or SocketError.WouldBlock))
        {
            return; // the connection is failing: the read loop sees it and closes it
        }

        // The rest of a partly sent frame must follow it: the queue is empty here, so it has room.
        _queued = true;
        Enqueue(data[Math.Max(sent, 0)..]);
    }

    private void Enqueue(ReadOnlySpan<byte> packet)
    {
        byte[] copy = ArrayPool<byte>.Shared.Rent(packet.Length);
        packet.CopyTo(copy);
        if (!_queue.Writer.TryWrite((copy, packet.Length)))
        {
            ArrayPool<byte>.Shared.Return(copy); // queue full or connection closing: dropped
        }
    }

    /// <summary>
    /// Writes what the core sends, in order. Whatever is queued when the loop wakes goes out in one write (up to
    /// 64 KiB): under load that is one system call (and one TLS record) for many frames instead of one per frame.
    /// </summary>
    public async Task WriteLoop(Stream stream)
    {
        ChannelReader<(byte[] Buffer, int Length)> reader = _queue.Reader;
        byte[] batch = ArrayPool<byte>.Shared.Rent(WriteBatchBytes);
        try
        {
            while (await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                int filled = 0;
                while (reader.TryRead(out (byte[] Buffer, int Length) item))
                {
                    try
                    {
                        if (filled + item.Length > batch.Length)
                        {
                            if (filled > 0)
                            {
                                await stream.WriteAsync(batch.AsMemory(0, filled), stopping).ConfigureAwait(false);
                                filled = 0;
                            }

                            if (item.Length > batch.Length)
                            {
                                await stream.WriteAsync(item.Buffer.AsMemory(0, item.Length), stopping).ConfigureAwait(false);
                                continue;
                            }
                        }

                        item.Buffer.AsSpan(0, item.Length).CopyTo(batch.AsSpan(filled));
                        filled += item.Length;
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(item.Buffer);
                    }
                }

                if (filled > 0)
                {
                    await stream.WriteAsync(batch.AsMemory(0, filled), stopping).ConfigureAwait(false);
                }

                if (_direct is not null)
                {
                    lock (_sendGate)
                    {
                        // Everything queued is in the kernel now: direct sends may resume (unless more came meanwhile).
                        _queued = reader.TryPeek(out _);
                    }
                }
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The read loop sees the same failure and closes the connection.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(batch);
        }
    }

    public void Complete() => _queue.Writer.TryComplete();

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out (byte[] Buffer, int Length) item))
        {
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
    }
}
