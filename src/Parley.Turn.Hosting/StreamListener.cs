using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Parley.Stun;

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

    public StreamListener(IPEndPoint endPoint, X509Certificate2? certificate, TurnServer server, ILogger logger)
    {
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

            socket.NoDelay = true;
            _ = Task.Run(() => RunConnection(socket));
        }
    }

    private async Task RunConnection(Socket socket)
    {
        long id = Interlocked.Increment(ref s_nextConnectionId);
        var remote = TransportAddress.FromIPEndPoint((IPEndPoint)socket.RemoteEndPoint!);
        var local = TransportAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);
        string protocol = Protocol.ToString();
        Log.ConnectionOpened(_logger, protocol, id, remote.ToString());
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        string reason = "closed by client";
        using var connection = new StreamConnection(Protocol, local, remote, _stopping.Token);
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
                    reason = "TLS handshake failed";
                    return;
                }
            }

            Task writer = connection.WriteLoop(stream);
            reason = await ReadLoop(stream, connection, remote).ConfigureAwait(false);
            connection.Complete();
            await writer.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            reason = exception.GetType().Name;
        }
        finally
        {
            _server.OnConnectionClosed(connection, remote);
            await stream.DisposeAsync().ConfigureAwait(false);
            Log.ConnectionClosed(_logger, protocol, id, reason);
        }
    }

    private async Task<string> ReadLoop(Stream stream, StreamConnection connection, TransportAddress remote)
    {
        // Room for the largest frame: a STUN message of 20 + 65532 bytes, or ChannelData of 4 + 65535 + padding.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StunHeader.MaxMessageLength + 8);
        try
        {
            int start = 0, end = 0;
            while (true)
            {
                ReadResult frame = StreamFramer.TryGetFrame(buffer.AsSpan(start, end - start), out _);
                if (frame.Status == ReadStatus.Invalid)
                {
                    return "not STUN or ChannelData";
                }

                if (frame.IsComplete)
                {
                    _server.OnClientPacket(connection, remote, buffer.AsSpan(start, frame.Consumed));
                    start += frame.Consumed;
                    continue;
                }

                // Incomplete: move what we have to the front, then read at least the rest.
                if (start > 0)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }

                int read = await stream.ReadAsync(buffer.AsMemory(end), _stopping.Token).ConfigureAwait(false);
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

    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Dispose();
        _stopping.Dispose();
    }
}

/// <summary>One TCP/TLS client connection as the core sees it.</summary>
internal sealed class StreamConnection(TurnTransportProtocol protocol, TransportAddress local, TransportAddress remote, CancellationToken stopping)
    : ITurnClientTransport, IDisposable
{
    private readonly Channel<(byte[] Buffer, int Length)> _queue = Channel.CreateBounded<(byte[], int)>(
        new BoundedChannelOptions(512) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    public TurnTransportProtocol Protocol => protocol;

    public TransportAddress LocalAddress => local;

    public TransportAddress Remote => remote;

    public void Send(ReadOnlySpan<byte> packet, in TransportAddress client)
    {
        byte[] copy = ArrayPool<byte>.Shared.Rent(packet.Length);
        packet.CopyTo(copy);
        if (!_queue.Writer.TryWrite((copy, packet.Length)))
        {
            ArrayPool<byte>.Shared.Return(copy); // queue full or connection closing: dropped
        }
    }

    public async Task WriteLoop(Stream stream)
    {
        try
        {
            await foreach ((byte[] buffer, int length) in _queue.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    await stream.WriteAsync(buffer.AsMemory(0, length), stopping).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The read loop sees the same failure and closes the connection.
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
