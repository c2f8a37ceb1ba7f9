using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Parley.Stun;
using Parley.Turn.Tests;

namespace Parley.Turn.FunctionalTests;

/// <summary>A small TURN client over a real socket: UDP datagrams, or TCP/TLS frames cut with the codec's StreamFramer.</summary>
public sealed class TurnTestClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly Stream? _stream;
    private readonly byte[] _buffer = new byte[70_000];
    private int _buffered;

    private TurnTestClient(Socket socket, Stream? stream)
    {
        _socket = socket;
        _stream = stream;
    }

    public bool IsStream => _stream is not null;

    /// <summary>The ALPN protocol the TLS handshake agreed on (empty without TLS or ALPN).</summary>
    public SslApplicationProtocol NegotiatedApplicationProtocol => (_stream as SslStream)?.NegotiatedApplicationProtocol ?? default;

    public TransportAddress LocalAddress => TransportAddress.FromIPEndPoint((IPEndPoint)_socket.LocalEndPoint!);

    public ClientCredentials? Credentials { get; set; }

    public static async Task<TurnTestClient> Udp(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(server);
        return new TurnTestClient(socket, null);
    }

    /// <summary>
    /// A TCP client, or with <paramref name="pinnedThumbprint"/> a TLS client (server name "localhost") that trusts only
    /// that certificate and offers the ALPN <paramref name="applicationProtocols"/> (none by default, as Chromium).
    /// </summary>
    public static async Task<TurnTestClient> Tcp(IPEndPoint server, string? pinnedThumbprint = null,
        List<SslApplicationProtocol>? applicationProtocols = null)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(server, timeout.Token);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        if (pinnedThumbprint is not null)
        {
            // The test's self-signed certificate, pinned by thumbprint.
            var ssl = new SslStream(stream, false, (_, certificate, _, _) =>
                string.Equals(certificate?.GetCertHashString(), pinnedThumbprint, StringComparison.OrdinalIgnoreCase));
            await ssl.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions { TargetHost = "localhost", ApplicationProtocols = applicationProtocols }, timeout.Token);
            stream = ssl;
        }

        return new TurnTestClient(socket, stream);
    }

    public async Task SendAsync(byte[] packet)
    {
        if (_stream is null)
        {
            await _socket.SendAsync(packet);
        }
        else
        {
            await _stream.WriteAsync(packet);
        }
    }

    /// <summary>The next packet from the server, or null after <paramref name="timeout"/>.</summary>
    public async Task<byte[]?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? Timeout);
        try
        {
            if (_stream is null)
            {
                int received = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cancel.Token);
                return _buffer.AsSpan(0, received).ToArray();
            }

            while (true)
            {
                ReadResult frame = StreamFramer.TryGetFrame(_buffer.AsSpan(0, _buffered), out _);
                Assert.NotEqual(ReadStatus.Invalid, frame.Status);
                if (frame.IsComplete)
                {
                    byte[] packet = _buffer.AsSpan(0, frame.Consumed).ToArray();
                    _buffer.AsSpan(frame.Consumed, _buffered - frame.Consumed).CopyTo(_buffer);
                    _buffered -= frame.Consumed;
                    return packet;
                }

                int read = await _stream.ReadAsync(_buffer.AsMemory(_buffered), cancel.Token);
                if (read == 0)
                {
                    return null;
                }

                _buffered += read;
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return null; // ICMP port unreachable: nobody listens (yet)
        }
    }

    /// <summary>Sends a request and waits (bounded) for the response with its transaction id; indications in between are skipped.</summary>
    public async Task<TurnResponse?> ExchangeAsync(byte[] request, TimeSpan? timeout = null)
    {
        StunMessage.TryRead(request, out StunMessage message);
        StunTransactionId id = message.TransactionId;
        await SendAsync(request);
        DateTime deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (DateTime.UtcNow < deadline)
        {
            byte[]? packet = await ReceiveAsync(deadline - DateTime.UtcNow);
            if (packet is null)
            {
                return null;
            }

            if (StunHeader.IsStun(packet) && new TurnResponse(packet).TransactionId == id)
            {
                return new TurnResponse(packet);
            }
        }

        return null;
    }

    /// <summary>An authenticated request, fetching or renewing the nonce on 401/438 (at most twice).</summary>
    public async Task<TurnResponse> RequestAsync(Func<ClientCredentials, byte[]> build)
    {
        ClientCredentials credentials = Credentials ?? throw new InvalidOperationException("no credentials");
        for (int attempt = 0; attempt < 3; attempt++)
        {
            TurnResponse response = await ExchangeAsync(build(credentials)) ?? throw new TimeoutException("no response");
            // The first 401 (no credentials sent yet) and every 438 with a new nonce are answered; a 401 to
            // credentials is final.
            if ((response.ErrorCode == 438 || (response.ErrorCode == 401 && credentials.Nonce.Length == 0))
                && response.Nonce is { } nonce && !nonce.SequenceEqual(credentials.Nonce))
            {
                credentials.Accept(response);
                continue;
            }

            return response;
        }

        throw new InvalidOperationException("no answer after three attempts");
    }

    public Task<TurnResponse> AllocateAsync() =>
        RequestAsync(c => TurnMessages.NextAllocate(c));

    /// <summary>
    /// With a permission for <paramref name="peer"/> installed: a Send indication reaches the peer from
    /// <paramref name="relayed"/>, and the peer's answer comes back as a Data indication naming the peer.
    /// </summary>
    public async Task AssertSendAndDataIndicationAsync(PeerSocket peer, TransportAddress relayed)
    {
        await SendAsync(TurnMessages.Send(peer.Address, [1, 2, 3]));
        var received = await peer.ReceiveAsync();
        Assert.NotNull(received);
        Assert.Equal(relayed, received.Value.From);
        Assert.Equal([1, 2, 3], received.Value.Data);

        await peer.SendAsync([4, 5, 6, 7, 8], relayed);
        byte[]? indication = await ReceiveAsync();
        Assert.NotNull(indication);
        (TransportAddress from, byte[] data) = TurnMessages.ReadDataIndication(indication);
        Assert.Equal(peer.Address, from);
        Assert.Equal([4, 5, 6, 7, 8], data);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }

        _socket.Dispose();
    }
}

/// <summary>A peer on loopback: a plain UDP socket.</summary>
public sealed class PeerSocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public PeerSocket() => _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    public TransportAddress Address => TransportAddress.FromIPEndPoint((IPEndPoint)_socket.LocalEndPoint!);

    public async Task SendAsync(byte[] data, TransportAddress to) => await _socket.SendToAsync(data, SocketFlags.None, to.ToIPEndPoint());

    public async Task<(TransportAddress From, byte[] Data)?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TurnTestClient.Timeout);
        var buffer = new byte[65536];
        try
        {
            SocketReceiveFromResult result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancel.Token);
            return (TransportAddress.FromIPEndPoint((IPEndPoint)result.RemoteEndPoint), buffer.AsSpan(0, result.ReceivedBytes).ToArray());
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public void Dispose() => _socket.Dispose();
}
