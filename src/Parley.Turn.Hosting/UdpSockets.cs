using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Parley.Stun;

namespace Parley.Turn.Hosting;

/// <summary>
/// Helpers shared by the UDP sockets: binding, and sends with one reusable <see cref="SocketAddress"/> per thread
/// (for threads that are not an event loop's: see <see cref="UdpIo"/>).
/// </summary>
/// <remarks>
/// Sends are synchronous and bounded: sockets stay in blocking mode with a 1 ms send timeout (SO_SNDTIMEO), so a
/// full send buffer delays the sending thread by at most 1 ms and then drops the datagram, as UDP may. On Linux a
/// datagram leaves the send buffer as soon as the device (or loopback) takes it.
/// </remarks>
internal static class UdpSend
{
    /// <summary>Receive and send buffer of a listener socket (all its clients): 4 MiB (the kernel caps it at net.core.rmem_max/wmem_max).</summary>
    public const int ListenerBufferBytes = 4 * 1024 * 1024;

    /// <summary>Receive and send buffer of a relay socket (one allocation): 1 MiB (capped likewise).</summary>
    public const int RelayBufferBytes = 1024 * 1024;

    [ThreadStatic]
    private static SocketAddress? t_address;

    /// <summary>Sends without allocating: the destination goes into this thread's SocketAddress.</summary>
    public static void SendTo(Socket socket, ReadOnlySpan<byte> data, in TransportAddress destination)
    {
        SocketAddress address = t_address ??= new SocketAddress(AddressFamily.InterNetworkV6);
        if (!destination.TryWriteTo(address))
        {
            return;
        }

        try
        {
            socket.SendTo(data, SocketFlags.None, address);
        }
        catch (SocketException)
        {
            // UDP: a failed send (ICMP unreachable reported late, buffer still full after the send timeout) is a lost
            // datagram.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public static Socket Bind(IPEndPoint endPoint, int bufferBytes, bool reusePort = false)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            if (reusePort)
            {
                // SO_REUSEPORT (SOL_SOCKET 1, option 15 on Linux): several sockets on one port, the kernel spreads
                // datagrams over them by the sender's address and port, so each client stays with one socket.
                socket.SetRawSocketOption(1, 15, [1, 0, 0, 0]);
            }

            // Room for bursts: at Linux's default (~208 KiB, about 100 full datagrams) a short stall of the receive
            // thread (a busy machine) drops datagrams at the socket.
            socket.ReceiveBufferSize = bufferBytes;
            socket.SendBufferSize = bufferBytes;

            // Sends must not stall a receive loop for long: a send buffer still full after 1 ms drops the datagram.
            socket.SendTimeout = 1;
            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public delegate void PacketHandler(ReadOnlySpan<byte> packet, in TransportAddress from);
}

/// <summary>
/// How UDP sockets receive: an epoll loop on Linux (<see cref="Linux.EpollUdpIo"/>), a thread per socket elsewhere
/// (<see cref="ThreadUdpIo"/>). One instance serves the listeners and every relay socket of a server.
/// </summary>
internal abstract class UdpIo : IDisposable
{
    /// <summary>
    /// Epoll loops where the platform has them, else threads; <paramref name="loops"/> sets the count (0 or null:
    /// <see cref="DefaultLoops"/>). Each loop has its own socket of every UDP listener (SO_REUSEPORT); a relay socket
    /// joins the loop whose listener socket took its Allocate, so one thread serves both directions of an allocation.
    /// </summary>
    public static UdpIo Create(ILogger logger, bool preferThreads = false, int? loops = null) =>
        !preferThreads && Linux.LinuxInterop.IsSupported
            ? new Linux.EpollUdpIo(loops is > 0 ? loops.Value : DefaultLoops, logger)
            : new ThreadUdpIo(logger);

    /// <summary>
    /// One loop per two cores, at least one, at most four (<c>Turn:UdpEventLoops</c> 0). On two cores one loop used
    /// 6-26 % less CPU per relayed packet than two, paced and unthrottled alike (bench/Parley.Bench.TurnLoad/README.md,
    /// "Performance"): the kernel's half of relaying (loopback or NIC delivery, waking receivers) runs beside it.
    /// </summary>
    public static int DefaultLoops => Math.Clamp(Environment.ProcessorCount / 2, 1, 4);

    /// <summary>
    /// How many listener sockets to bind per UDP listen address (SO_REUSEPORT, so that the kernel spreads clients over
    /// them by address and port): one per epoll loop, one with threads.
    /// </summary>
    public virtual int ListenerSockets => 1;

    /// <summary>Takes charge of a bound socket; <see cref="UdpChannel.Start"/> begins receiving.</summary>
    public abstract UdpChannel Open(Socket socket);

    /// <summary>Takes charge of the <paramref name="listener"/>th socket of a listen address (see <see cref="ListenerSockets"/>).</summary>
    public virtual UdpChannel Open(Socket socket, int listener) => Open(socket);

    /// <summary>Stops the loops (if any); sockets still open are closed.</summary>
    public abstract void Dispose();
}

/// <summary>A bound UDP socket as the listener and relay sockets see it, however it is driven.</summary>
internal abstract class UdpChannel(Socket socket) : IDisposable
{
    public Socket Socket => socket;

    /// <summary>Completes when the socket no longer receives and is closed (after <see cref="Dispose"/>).</summary>
    public abstract Task Stopped { get; }

    /// <summary>Starts receiving; <paramref name="onPacket"/> gets each datagram (the span only during the call).</summary>
    public abstract void Start(UdpSend.PacketHandler onPacket, string name);

    /// <summary>Sends one datagram, or drops it if it cannot go now.</summary>
    public abstract void SendTo(ReadOnlySpan<byte> data, in TransportAddress destination);

    /// <summary>Stops receiving and closes the socket, without waiting for either.</summary>
    public abstract void Dispose();
}

/// <summary>
/// The portable way: a dedicated receive thread per socket (<see cref="UdpReceiver"/>), for platforms without the
/// epoll loop.
/// </summary>
/// <remarks>
/// Threads and blocking receives rather than <c>ReceiveFromAsync</c>: a thread that waits in the kernel
/// (recvfrom(2)) and handles each datagram where it arrives costs one wake-up per idle-to-busy transition and one
/// system call per datagram. The async API costs a wake-up of the socket engine's epoll thread plus a hop to a
/// thread-pool worker per datagram, and idle workers spin (sched_yield) before they sleep: at 200 allocations × 50
/// packets/s that spinning was a third of the server's CPU (perf), and the server used two to three times the CPU per
/// relayed packet. The cost is one thread per relay socket (bounded by <c>Turn:MaxAllocations</c>), each with a small
/// stack, asleep in the kernel while its allocation is idle.
/// </remarks>
internal sealed class ThreadUdpIo(ILogger logger) : UdpIo
{
    public override UdpChannel Open(Socket socket) => new UdpReceiver(socket, logger);

    public override void Dispose()
    {
        // Each socket's thread ends when its owner disposes it.
    }
}

/// <summary>
/// A UDP socket with its own receive thread: blocking receives into one pinned buffer with the SocketAddress overload
/// (no per-packet allocation), each datagram handed to a callback on that thread.
/// </summary>
internal sealed class UdpReceiver : UdpChannel
{
    // The receive loop's frames are small (the core's handlers stackalloc at most a few KiB); 256 KiB is ample and
    // keeps the reserved address space of many relay threads small.
    private const int ReceiveThreadStackBytes = 256 * 1024;

    private readonly Socket _socket;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _closing;

    public UdpReceiver(Socket socket, ILogger logger)
        : base(socket)
    {
        _socket = socket;
        _logger = logger;
    }

    /// <summary>Completes when the receive thread has ended.</summary>
    public override Task Stopped => _stopped.Task;

    public override void SendTo(ReadOnlySpan<byte> data, in TransportAddress destination) => UdpSend.SendTo(_socket, data, destination);

    /// <summary>Starts the receive thread; <paramref name="onPacket"/> runs on it, one datagram at a time.</summary>
    public override void Start(UdpSend.PacketHandler onPacket, string threadName)
    {
        var thread = new Thread(() => Run(onPacket), ReceiveThreadStackBytes)
        {
            IsBackground = true,
            Name = threadName,
        };
        try
        {
            thread.UnsafeStart();
        }
        catch (OutOfMemoryException exception)
        {
            // No thread to be had (a process or system limit): fail this socket's owner (an Allocate, answered as an
            // unexpected error), not the thread that asked, which may be a listener's.
            throw new InvalidOperationException($"Cannot start a receive thread for {LocalEndPoint()}.", exception);
        }
    }

    /// <summary>
    /// Stops receiving and closes the socket without waiting for the receive thread: shutdown(2) wakes a receive
    /// blocked in the kernel at once (closing alone would not on Linux; .NET then spins until the call returns), and
    /// the close itself runs on the thread pool so that whoever deletes an allocation never waits for it.
    /// </summary>
    public override void Dispose()
    {
        if (_closing)
        {
            return;
        }

        _closing = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Linux reports ENOTCONN for an unconnected UDP socket, but has woken its receivers all the same.
        }
        catch (ObjectDisposedException)
        {
        }

        ThreadPool.UnsafeQueueUserWorkItem(static socket => socket.Dispose(), _socket, preferLocal: false);
    }

    private void Run(UdpSend.PacketHandler onPacket)
    {
        try
        {
            ReceiveLoop(onPacket);
        }
        catch (Exception exception)
        {
            // A bug in a handler: this socket stops receiving, the server goes on (an exception must not leave a
            // thread of its own: that would end the process).
            Log.ReceiveLoopFailed(_logger, exception, LocalEndPoint());
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void ReceiveLoop(UdpSend.PacketHandler onPacket)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var remote = new SocketAddress(_socket.AddressFamily);
        while (!_closing)
        {
            int received;
            try
            {
                received = _socket.ReceiveFrom(buffer, SocketFlags.None, remote);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize
                or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.ConnectionRefused
                or SocketError.Interrupted or SocketError.WouldBlock or SocketError.TimedOut)
            {
                continue; // ICMP errors of earlier sends, an oversized datagram, or a close in progress (checked above)
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.OperationAborted or SocketError.Shutdown)
            {
                return;
            }
            catch (Exception exception)
            {
                if (!_closing)
                {
                    Log.ReceiveLoopFailed(_logger, exception, LocalEndPoint());
                }

                return;
            }

            // After shutdown(2) the receive returns 0 bytes without a sender: not a datagram.
            if (_closing)
            {
                return;
            }

            if (TransportAddress.TryRead(remote, out TransportAddress from))
            {
                onPacket(buffer.AsSpan(0, received), from);
            }
        }
    }

    private string LocalEndPoint()
    {
        try
        {
            return _socket.LocalEndPoint?.ToString() ?? "?";
        }
        catch (ObjectDisposedException)
        {
            return "?";
        }
    }
}

/// <summary>A UDP listener (STUN/TURN port): one socket, many clients.</summary>
internal sealed class UdpClientTransport : ITurnClientTransport, IDisposable
{
    private readonly UdpChannel _receiver;

    public UdpClientTransport(Socket socket, UdpIo io, int listener = 0)
    {
        _receiver = io.Open(socket, listener);
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
        LocalAddress = TransportAddress.FromIPEndPoint(EndPoint);
    }

    public TurnTransportProtocol Protocol => TurnTransportProtocol.Udp;

    public TransportAddress LocalAddress { get; }

    public IPEndPoint EndPoint { get; }

    public void Send(ReadOnlySpan<byte> packet, in TransportAddress client) => _receiver.SendTo(packet, client);

    /// <summary>Starts receiving; the task completes when the socket is closed (after <see cref="Dispose"/>).</summary>
    public Task Start(TurnServer server)
    {
        _receiver.Start((ReadOnlySpan<byte> packet, in TransportAddress from) => server.OnClientPacket(this, from, packet), "TURN UDP listen");
        return _receiver.Stopped;
    }

    public void Dispose() => _receiver.Dispose();
}

/// <summary>A relay socket: UDP bound on the relay address, in the relay port range.</summary>
internal sealed class UdpRelaySocket : IRelaySocket
{
    private readonly UdpChannel _receiver;

    public UdpRelaySocket(Socket socket, UdpIo io)
    {
        _receiver = io.Open(socket);
        LocalAddress = TransportAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);
    }

    public TransportAddress LocalAddress { get; }

    public void SendTo(ReadOnlySpan<byte> data, in TransportAddress peer) => _receiver.SendTo(data, peer);

    public void Start(IRelayReceiver receiver) => _receiver.Start(receiver.OnPeerPacket, "TURN UDP relay");

    public void Dispose() => _receiver.Dispose();
}

/// <summary>Binds real UDP relay sockets; a port in use is reported so that the core tries another.</summary>
public sealed class UdpRelaySocketFactory : IRelaySocketFactory
{
    private readonly UdpIo _io;

    /// <summary>
    /// Relay sockets with a receive thread each. <c>AddTurnServer</c> instead drives them with the host's listeners
    /// (an epoll loop on Linux), which it owns and closes with the host.
    /// </summary>
    public UdpRelaySocketFactory(ILogger<UdpRelaySocketFactory> logger)
        : this(new ThreadUdpIo(logger))
    {
    }

    internal UdpRelaySocketFactory(UdpIo io) => _io = io;

    /// <inheritdoc/>
    public bool TryBind(TransportAddress address, out IRelaySocket? socket)
    {
        try
        {
            socket = new UdpRelaySocket(UdpSend.Bind(address.ToIPEndPoint(), UdpSend.RelayBufferBytes), _io);
            return true;
        }
        catch (SocketException)
        {
            socket = null;
            return false;
        }
    }
}
