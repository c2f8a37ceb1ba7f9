using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Parley.Stun;

namespace Parley.Bench.TurnLoad;

/// <summary>A STUN error response to one of the tool's requests.</summary>
internal sealed class TurnErrorException(string message) : Exception(message);

/// <summary>
/// One TURN client with one allocation (RFC 8656): its own socket to the server, one channel bound to the echo peer,
/// and one receive loop that measures the echoed ChannelData and completes pending STUN transactions.
/// <para>
/// Hot path: <see cref="SendData"/> stamps the sequence number and send time into a prebuilt ChannelData packet and
/// makes one send call; the receive loop reads into one buffer and records the round trip in a histogram. Neither
/// allocates. Control requests (Allocate, Refresh, CreatePermission, ChannelBind) allocate freely: they are rare.
/// </para>
/// </summary>
internal sealed class TurnAllocationClient : IDisposable
{
    /// <summary>Every client binds this channel: each has its own socket, so its own 5-tuple.</summary>
    public const ushort Channel = ChannelData.MinChannelNumber;

    private const byte UdpProtocol = 17;

    // SOFTWARE (comprehension-optional, so any server accepts it) in every request. Its length is deliberate: a
    // server that never answers an unauthenticated UDP request with more bytes than it had (amplification limits,
    // as Parley's UnauthenticatedResponseFloor) must still be able to send the 401 with REALM and NONCE.
    private const string Software = "Parley.Bench.TurnLoad: TURN relay load tool (this text also makes the first request larger than its 401)";
    private static readonly double s_microsecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly Socket _socket;
    private readonly ClientTransport _transport;
    private readonly MeasurementWindow _window;
    private readonly TransportAddress _peer;
    private readonly bool _echoTriggersSend;
    private readonly byte[] _receiveBuffer = GC.AllocateArray<byte>(256 * 1024, pinned: true);
    private readonly byte[] _packet;
    private readonly int _packetLength;
    private readonly Lock _sendLock = new();
    private readonly Lock _transactionLock = new();
    private readonly string _username;
    private readonly string _password;
    private TaskCompletionSource<byte[]>? _pending;
    private StunTransactionId _pendingId;
    private string _realm;
    private byte[]? _nonce;
    private byte[]? _key;
    private long _sequence;
    private long _lastReceive;
    private long _sentInWindow;
    private long _receivedInWindow;
    private long _sendErrors;
    private long _unexpected;
    private volatile bool _closing;

    private delegate void AttributeWriter(ref StunMessageWriter writer);

    private TurnAllocationClient(Socket socket, ClientTransport transport, MeasurementWindow window, TransportAddress peer,
        int size, bool echoTriggersSend, string username, string password, string realm)
    {
        _socket = socket;
        _transport = transport;
        _window = window;
        _peer = peer;
        _echoTriggersSend = echoTriggersSend;
        _username = username;
        _password = password;
        _realm = realm;
        // ChannelData over TCP is padded to four bytes (RFC 8656 §12.5); over UDP it need not be.
        _packetLength = ChannelData.GetEncodedLength(size, padToFourBytes: transport == ClientTransport.Tcp);
        _packet = GC.AllocateArray<byte>(_packetLength, pinned: true);
        ChannelData.TryWriteHeader(_packet, Channel, size);
        for (int i = ChannelData.HeaderLength + Payload.MinSize; i < ChannelData.HeaderLength + size; i++)
        {
            _packet[i] = (byte)i; // filler
        }
    }

    public LatencyHistogram Latency { get; } = new();

    public TransportAddress RelayedAddress { get; private set; }

    public TimeSpan GrantedLifetime { get; private set; }

    public long SentInWindow => Interlocked.Read(ref _sentInWindow);

    public long ReceivedInWindow => Interlocked.Read(ref _receivedInWindow);

    public long LastReceiveTimestamp => Interlocked.Read(ref _lastReceive);

    public long SendErrors => Interlocked.Read(ref _sendErrors);

    public long UnexpectedPackets => Interlocked.Read(ref _unexpected);

    public int Refreshes { get; private set; }

    /// <summary>The client socket's local port (for its UDP drop count).</summary>
    public int LocalPort => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    /// <summary>Opens the client's socket (UDP, or a TCP connection) to the server and starts its receive loop.</summary>
    public static async Task<(TurnAllocationClient Client, Task ReceiveLoop)> ConnectAsync(LoadOptions options, int index,
        MeasurementWindow window, IPEndPoint peer, CancellationToken cancellationToken)
    {
        Socket socket = options.Transport == ClientTransport.Udp
            ? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            SocketTuning.SetBuffers(socket, options.Transport == ClientTransport.Udp ? 1024 * 1024 : 4 * 1024 * 1024);
            // A connected socket: plain send/recv, no address to pass or parse per packet.
            await socket.ConnectAsync(options.SelfTest ? peer : options.Server, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        // TURN REST credentials (coturn use-auth-secret): "<unix-expiry>:<user>", base64(HMAC-SHA1(secret, username)).
        long expiry = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + (long)(options.Warmup + options.Duration).TotalSeconds + 3600;
        string username = FormattableString.Invariant($"{expiry}:turnload-{index}");
#pragma warning disable CA5350 // HMAC-SHA1 is what coturn's TURN REST credentials are defined with.
        string password = Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(options.Secret), Encoding.UTF8.GetBytes(username)));
#pragma warning restore CA5350
        TurnAllocationClient client = new(socket, options.Transport, window, TransportAddress.FromIPEndPoint(peer), options.Size,
            echoTriggersSend: options.Rate == 0, username, password, options.Realm);
        return (client, Task.Run(client.ReceiveLoopAsync, CancellationToken.None));
    }

    /// <summary>Allocate (with the 401 challenge and the authenticated retry), CreatePermission and ChannelBind.</summary>
    public async Task SetUpAsync(TimeSpan? lifetime, CancellationToken cancellationToken)
    {
        byte[] allocated = await TransactAuthenticatedAsync(StunMessageType.AllocateRequest, "Allocate", (ref StunMessageWriter w) =>
        {
            w.WriteRequestedTransport(UdpProtocol);
            if (lifetime is { } requested)
            {
                w.WriteLifetime((uint)requested.TotalSeconds);
            }
        }, cancellationToken).ConfigureAwait(false);
        StunMessage.TryRead(allocated, out StunMessage message);
        if (!message.TryGetXorAddress(StunAttributeType.XorRelayedAddress, out TransportAddress relayed))
        {
            throw new TurnErrorException("Allocate success response without XOR-RELAYED-ADDRESS.");
        }

        RelayedAddress = relayed;
        GrantedLifetime = TimeSpan.FromSeconds(message.TryGetLifetime(out uint seconds) ? seconds : 600);
        await BindChannelAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Keeps the allocation, permission (300 s) and channel (600 s) alive: Refresh, then CreatePermission and
    /// ChannelBind again (RFC 8656 §8, §9, §12: a repeated ChannelBind refreshes the binding).
    /// </summary>
    public async Task RefreshAsync(TimeSpan? lifetime, CancellationToken cancellationToken)
    {
        byte[] refreshed = await TransactAuthenticatedAsync(StunMessageType.RefreshRequest, "Refresh", (ref StunMessageWriter w) =>
        {
            if (lifetime is { } requested)
            {
                w.WriteLifetime((uint)requested.TotalSeconds);
            }
        }, cancellationToken).ConfigureAwait(false);
        StunMessage.TryRead(refreshed, out StunMessage message);
        if (message.TryGetLifetime(out uint seconds))
        {
            GrantedLifetime = TimeSpan.FromSeconds(seconds);
        }

        await BindChannelAsync(cancellationToken).ConfigureAwait(false);
        Refreshes++;
    }

    /// <summary>Refresh with LIFETIME 0: the server frees the relayed port now rather than in ten minutes.</summary>
    public Task DeallocateAsync(CancellationToken cancellationToken) =>
        TransactAuthenticatedAsync(StunMessageType.RefreshRequest, "Deallocate", (ref StunMessageWriter w) => w.WriteLifetime(0),
            cancellationToken);

    /// <summary>Sends one ChannelData packet stamped with the next sequence number and the current time.</summary>
    public void SendData()
    {
        lock (_sendLock)
        {
            long now = Stopwatch.GetTimestamp();
            Payload.Write(_packet.AsSpan(ChannelData.HeaderLength), _sequence++, now);
            try
            {
                _socket.Send(_packet.AsSpan(0, _packetLength), SocketFlags.None);
            }
            catch (SocketException)
            {
                Interlocked.Increment(ref _sendErrors); // e.g. ICMP port unreachable from an earlier packet
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            if (_window.Contains(now))
            {
                Interlocked.Increment(ref _sentInWindow);
            }
        }
    }

    public void Dispose()
    {
        _closing = true;
        _socket.Dispose();
    }

    private async Task BindChannelAsync(CancellationToken cancellationToken)
    {
        TransportAddress peer = _peer;
        await TransactAuthenticatedAsync(StunMessageType.CreatePermissionRequest, "CreatePermission",
            (ref StunMessageWriter w) => w.WriteXorAddress(StunAttributeType.XorPeerAddress, peer), cancellationToken).ConfigureAwait(false);
        await TransactAuthenticatedAsync(StunMessageType.ChannelBindRequest, "ChannelBind", (ref StunMessageWriter w) =>
        {
            w.WriteChannelNumber(Channel);
            w.WriteXorAddress(StunAttributeType.XorPeerAddress, peer);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One request with long-term credentials (RFC 8489 §9.2): the first goes without them if no nonce is known yet;
    /// a 401 or 438 (stale nonce) supplies REALM and NONCE and the request is sent again, at most three times.
    /// </summary>
    private async Task<byte[]> TransactAuthenticatedAsync(StunMessageType type, string what, AttributeWriter body,
        CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            byte[] response = await TransactAsync(buffer =>
            {
                StunMessageWriter writer = new(buffer, type, StunTransactionId.NewRandom());
                body(ref writer);
                writer.WriteText(StunAttributeType.Software, Software);
                if (_nonce is not null && _key is not null)
                {
                    writer.WriteText(StunAttributeType.Username, _username);
                    writer.WriteText(StunAttributeType.Realm, _realm);
                    writer.WriteNonce(_nonce);
                    writer.WriteMessageIntegrity(_key);
                }

                writer.WriteFingerprint();
                return writer.HasOverflowed ? throw new InvalidOperationException("Request too large.") : writer.Length;
            }, cancellationToken).ConfigureAwait(false);

            StunMessage.TryRead(response, out StunMessage message);
            if (message.Class == StunClass.SuccessResponse)
            {
                if (message.HasMessageIntegrity && _key is not null && !message.VerifyMessageIntegrity(_key))
                {
                    throw new TurnErrorException($"{what}: the success response's MESSAGE-INTEGRITY does not verify.");
                }

                return response;
            }

            message.TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason);
            bool challenge = code == StunErrorCode.StaleNonce || (code == StunErrorCode.Unauthorized && attempt == 0);
            if (challenge && message.TryGetNonce(out ReadOnlySpan<byte> nonce))
            {
                if (message.TryGetRealm(out ReadOnlySpan<byte> realm))
                {
                    _realm = Encoding.UTF8.GetString(realm);
                }

                _nonce = nonce.ToArray();
                _key = StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, _username, _realm, _password);
                continue;
            }

            throw new TurnErrorException($"{what}: {code} {Encoding.UTF8.GetString(reason)}");
        }

        throw new TurnErrorException($"{what}: still challenged after three attempts (wrong --secret or --realm?).");
    }

    /// <summary>
    /// Sends a request and waits for the response with its transaction id, which the receive loop hands over.
    /// UDP retransmits (RFC 8489 §6.2.1: 250 ms doubling, here at most 7 sends); TCP sends once and waits 10 s.
    /// </summary>
    private async Task<byte[]> TransactAsync(Func<byte[], int> write, CancellationToken cancellationToken)
    {
        byte[] request = new byte[1500];
        int length = write(request);
        StunTransactionId id = StunTransactionId.Read(request.AsSpan(8));
        TaskCompletionSource<byte[]> response = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_transactionLock)
        {
            _pending = response;
            _pendingId = id;
        }

        try
        {
            int sends = _transport == ClientTransport.Udp ? 7 : 1;
            TimeSpan timeout = _transport == ClientTransport.Udp ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(10);
            for (int i = 0; i < sends; i++)
            {
                lock (_sendLock)
                {
                    _socket.Send(request.AsSpan(0, length), SocketFlags.None);
                }

                try
                {
                    return await response.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    timeout = TimeSpan.FromTicks(Math.Min(timeout.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
                }
            }

            throw new TimeoutException("No response from the TURN server.");
        }
        finally
        {
            lock (_transactionLock)
            {
                _pending = null;
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        Memory<byte> buffer = _receiveBuffer;
        int buffered = 0;
        try
        {
            while (true)
            {
                int received = await _socket.ReceiveAsync(buffer[buffered..], SocketFlags.None).ConfigureAwait(false);
                if (_transport == ClientTransport.Udp)
                {
                    OnPacket(_receiveBuffer.AsSpan(0, received));
                    continue;
                }

                if (received == 0)
                {
                    return; // the server closed the connection
                }

                buffered += received;
                int consumed = FrameStream(_receiveBuffer.AsSpan(0, buffered));
                if (consumed < 0)
                {
                    return;
                }

                _receiveBuffer.AsSpan(consumed, buffered - consumed).CopyTo(_receiveBuffer);
                buffered -= consumed;
            }
        }
        catch (SocketException) when (_closing)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref _sendErrors);
        }
    }

    // TCP: hands every whole frame to OnPacket (RFC 8656 §12.5); returns the bytes consumed, or -1 if the stream is garbage.
    private int FrameStream(ReadOnlySpan<byte> buffered)
    {
        int offset = 0;
        while (true)
        {
            ReadResult frame = StreamFramer.TryGetFrame(buffered[offset..], out _);
            switch (frame.Status)
            {
                case ReadStatus.Complete:
                    OnPacket(buffered.Slice(offset, frame.Consumed));
                    offset += frame.Consumed;
                    break;
                case ReadStatus.Incomplete when frame.Length <= _receiveBuffer.Length:
                    return offset;
                default:
                    Interlocked.Increment(ref _unexpected);
                    return -1;
            }
        }
    }

    private void OnPacket(ReadOnlySpan<byte> packet)
    {
        switch (PacketClassifier.Classify(packet))
        {
            case PacketKind.ChannelData when ChannelData.TryRead(packet, out ChannelData channelData).IsComplete:
                OnEcho(channelData.Data);
                break;
            case PacketKind.Stun when StunMessage.TryRead(packet, out StunMessage message).IsComplete:
                OnStun(message);
                break;
            default:
                Interlocked.Increment(ref _unexpected);
                break;
        }
    }

    private void OnEcho(ReadOnlySpan<byte> data)
    {
        long now = Stopwatch.GetTimestamp();
        long sent = Payload.ReadSendTimestamp(data);
        Volatile.Write(ref _lastReceive, now);
        if (_window.Contains(sent))
        {
            Interlocked.Increment(ref _receivedInWindow);
            Latency.Record((long)((now - sent) * s_microsecondsPerTick));
        }

        // Unthrottled: every echo releases the next packet, keeping the window full (a closed loop).
        if (_echoTriggersSend && _window.Sending)
        {
            SendData();
        }
    }

    private void OnStun(StunMessage message)
    {
        if (message.Class is not (StunClass.SuccessResponse or StunClass.ErrorResponse))
        {
            Interlocked.Increment(ref _unexpected); // e.g. a Data indication: the channel should carry everything
            return;
        }

        TaskCompletionSource<byte[]>? pending;
        lock (_transactionLock)
        {
            pending = _pending is not null && _pendingId == message.TransactionId ? _pending : null;
        }

        pending?.TrySetResult(message.Bytes.ToArray());
    }
}
