using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Parley.Stun;
using static Parley.Turn.Hosting.Linux.LinuxInterop;

namespace Parley.Turn.Hosting.Linux;

/// <summary>
/// UDP sockets driven by a few epoll(7) loops (Linux): each loop thread waits in epoll_wait for all its sockets,
/// takes up to 32 datagrams per ready socket with one recvmmsg(2), hands each to the socket's handler, and sends what
/// the handlers sent with one sendmmsg(2) per destination socket (<see cref="UdpSendBatch"/>).
/// </summary>
/// <remarks>
/// Why: with a thread per socket every datagram costs a wake-up of its socket's thread and a system call to receive
/// and another to send. A loop serves every socket that is ready at one wake-up, and under load receives and sends
/// many datagrams per system call (bench/Parley.Bench.TurnLoad/README.md, "Performance"). Every loop has its own
/// socket of each UDP listener (SO_REUSEPORT: the kernel keeps a client with one of them), and a relay socket joins the
/// loop that handled its Allocate, so an allocation's datagrams both ways wake one thread, which stays on its CPU,
/// rather than two threads in turn (at 10 × 50 packets/s that was ten times the CPU migrations). Sockets are registered
/// level-triggered and keep their blocking mode (the loop passes MSG_DONTWAIT), so other threads may still send on
/// them with <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, System.Net.SocketAddress)"/>.
/// </remarks>
internal sealed class EpollUdpIo : UdpIo
{
    private readonly EpollLoop[] _loops;
    private int _next = -1;

    public EpollUdpIo(int loops, ILogger logger)
    {
        _loops = new EpollLoop[Math.Max(1, loops)];
        for (int i = 0; i < _loops.Length; i++)
        {
            _loops[i] = new EpollLoop(logger, i);
        }
    }

    public int LoopCount => _loops.Length;

    public override int ListenerSockets => _loops.Length;

    /// <summary>
    /// On one of this instance's loop threads (an Allocate that arrived on a listener), the socket joins that loop;
    /// elsewhere the loops take turns.
    /// </summary>
    public override UdpChannel Open(Socket socket)
    {
        EpollLoop? current = EpollLoop.Current;
        EpollLoop loop = current is not null && Array.IndexOf(_loops, current) >= 0
            ? current
            : _loops[(uint)Interlocked.Increment(ref _next) % (uint)_loops.Length];
        return new EpollUdpChannel(socket, loop);
    }

    public override UdpChannel Open(Socket socket, int listener) => new EpollUdpChannel(socket, _loops[listener % _loops.Length]);

    /// <summary>Test hook: the bytes each loop thread has allocated (see <see cref="EpollLoop.AllocatedBytes"/>).</summary>
    internal long[] LoopAllocatedBytes() => [.. _loops.Select(l => l.AllocatedBytes)];

    /// <summary>Test hook: how many times each loop has woken with ready sockets.</summary>
    internal long[] LoopRounds() => [.. _loops.Select(l => l.Rounds)];

    public override void Dispose()
    {
        foreach (EpollLoop loop in _loops)
        {
            loop.Dispose();
        }
    }
}

/// <summary>A socket registered with an <see cref="EpollLoop"/>.</summary>
internal sealed class EpollUdpChannel : UdpChannel
{
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly SafeSocketHandle _handle;
    private bool _registered;
    private volatile bool _closing;

    public EpollUdpChannel(Socket socket, EpollLoop loop)
        : base(socket)
    {
        Loop = loop;
        _handle = socket.SafeHandle;
        Fd = (int)_handle.DangerousGetHandle();
    }

    public EpollLoop Loop { get; }

    /// <summary>The descriptor: valid until the loop closes the socket (only the loop does, after deregistering it).</summary>
    public int Fd { get; }

    public UdpSend.PacketHandler? Handler { get; private set; }

    public GCHandle Self { get; set; }

    public bool IsClosing => _closing;

    public override Task Stopped => _stopped.Task;

    public override void Start(UdpSend.PacketHandler onPacket, string name)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            Handler = onPacket;
            Loop.Add(this);
            _registered = true;
        }
    }

    public override void SendTo(ReadOnlySpan<byte> data, in TransportAddress destination)
    {
        // On a loop thread the datagram joins that loop's batch; elsewhere (a TCP connection's thread) it goes now.
        if (UdpSendBatch.Current is { } batch && batch.TryAdd(_handle, Fd, data, destination))
        {
            return;
        }

        UdpSend.SendTo(Socket, data, destination);
    }

    public override void Dispose()
    {
        lock (_gate)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
            if (_registered)
            {
                Loop.Remove(this); // the loop deregisters it, then closes it
                return;
            }
        }

        CloseSocket(); // never started (a reserved port): nothing else knows it
    }

    /// <summary>Closes the socket off the caller's thread (a loop must not wait), then reports the channel stopped.</summary>
    public void CloseSocket() => ThreadPool.UnsafeQueueUserWorkItem(
        static channel =>
        {
            channel.Socket.Dispose();
            channel._stopped.TrySetResult();
        },
        this,
        preferLocal: false);
}

/// <summary>One epoll loop thread and the sockets registered with it.</summary>
internal sealed unsafe class EpollLoop : IDisposable
{
    private const int MaxEvents = 64;
    private const int ReceiveBatch = 32;
    private const int SlotBytes = 65536; // the largest UDP payload (65,507 bytes) fits

    [ThreadStatic]
    private static EpollLoop? t_current;

    private readonly ILogger _logger;
    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<EpollUdpChannel> _closing = new();
    private readonly HashSet<EpollUdpChannel> _live = [];
    private readonly Lock _gate = new();
    private volatile bool _stopping;
    private bool _stopped;
    private long _allocatedBytes;
    private long _rounds;

    public EpollLoop(ILogger logger, int index)
    {
        _logger = logger;
        _epoll = epoll_create1(EpollCloexec);
        if (_epoll < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _wake = eventfd(0, EfdCloexec | EfdNonblock);
        if (_wake < 0 || EpollCtl(_epoll, EpollCtlAdd, _wake, EpollIn, 0) != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            _ = close(_epoll);
            throw new InvalidOperationException($"eventfd failed: errno {error}");
        }

        // The loop's frames are small (the core's handlers stackalloc a few KiB); its buffers are native memory.
        _thread = new Thread(Run, 256 * 1024) { IsBackground = true, Name = $"TURN UDP loop {index}" };
        _thread.UnsafeStart();
    }

    /// <summary>
    /// Bytes allocated on the loop thread, as of its last wait in epoll_wait (a test reads it before and after
    /// relaying to prove the loop allocates nothing per datagram).
    /// </summary>
    public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);

    /// <summary>Rounds with ready sockets so far (a test reads which loop served some traffic).</summary>
    public long Rounds => Volatile.Read(ref _rounds);

    /// <summary>The loop whose thread this is, if any.</summary>
    public static EpollLoop? Current => t_current;

    public void Add(EpollUdpChannel channel)
    {
        lock (_gate)
        {
            if (_stopped || _stopping)
            {
                throw new InvalidOperationException("The UDP event loop has stopped.");
            }

            channel.Self = GCHandle.Alloc(channel);
            if (EpollCtl(_epoll, EpollCtlAdd, channel.Fd, EpollIn, (ulong)GCHandle.ToIntPtr(channel.Self)) != 0)
            {
                int error = Marshal.GetLastPInvokeError();
                channel.Self.Free();
                throw new InvalidOperationException($"epoll_ctl(ADD) failed: errno {error}");
            }

            _live.Add(channel);
        }
    }

    /// <summary>Deregisters and closes <paramref name="channel"/> on the loop thread, after its current round.</summary>
    public void Remove(EpollUdpChannel channel)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return; // the loop closed every socket as it ended
            }

            _closing.Enqueue(channel);
            if (Thread.CurrentThread != _thread)
            {
                Wake();
            }
        }
    }

    // Under _gate, while not _stopped: the eventfd is open.
    private void Wake()
    {
        ulong one = 1;
        _ = write(_wake, &one, sizeof(ulong));
    }

    private void Run()
    {
        byte* events = (byte*)NativeMemory.AllocZeroed((nuint)(MaxEvents * EpollEventBytes));
        byte* buffers = (byte*)NativeMemory.Alloc(ReceiveBatch * SlotBytes);
        byte* names = (byte*)NativeMemory.AllocZeroed(ReceiveBatch * SockaddrBytes);
        var iov = (IoVec*)NativeMemory.AllocZeroed((nuint)(ReceiveBatch * sizeof(IoVec)));
        var messages = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)(ReceiveBatch * sizeof(MMsgHdr)));
        for (int i = 0; i < ReceiveBatch; i++)
        {
            iov[i].Base = buffers + ((nint)i * SlotBytes);
            iov[i].Length = SlotBytes;
            messages[i].Header.Name = names + (i * SockaddrBytes);
            messages[i].Header.Iov = iov + i;
            messages[i].Header.IovLength = 1;
        }

        var batch = new UdpSendBatch();
        batch.MakeCurrent();
        t_current = this;
        try
        {
            while (!_stopping)
            {
                Volatile.Write(ref _allocatedBytes, GC.GetAllocatedBytesForCurrentThread());
                int ready = epoll_wait(_epoll, events, MaxEvents, -1);
                if (ready < 0)
                {
                    int error = Marshal.GetLastPInvokeError();
                    if (error == EIntr)
                    {
                        continue;
                    }

                    throw new InvalidOperationException($"epoll_wait failed: errno {error}");
                }

                Volatile.Write(ref _rounds, _rounds + 1);

                for (int i = 0; i < ready; i++)
                {
                    ulong data = ReadEpollData(events, i);
                    if (data == 0)
                    {
                        ulong count;
                        _ = read(_wake, &count, sizeof(ulong));
                        continue;
                    }

                    var channel = (EpollUdpChannel)GCHandle.FromIntPtr((nint)data).Target!;
                    if (!channel.IsClosing)
                    {
                        Receive(channel, messages, buffers, names);
                    }
                }

                batch.Flush();
                CloseRemoved();
            }
        }
        catch (Exception exception)
        {
            // A broken invariant in the loop itself (handlers' exceptions are caught per datagram): log it; the
            // sockets stop receiving, the process goes on.
            Log.ReceiveLoopFailed(_logger, exception, _thread.Name ?? "UDP loop");
        }
        finally
        {
            batch.Dispose();
            Stop();
            NativeMemory.Free(events);
            NativeMemory.Free(buffers);
            NativeMemory.Free(names);
            NativeMemory.Free(iov);
            NativeMemory.Free(messages);
        }
    }

    // Up to ReceiveBatch datagrams from one ready socket; level-triggered epoll reports it again if more are left,
    // after the other ready sockets had their turn.
    private void Receive(EpollUdpChannel channel, MMsgHdr* messages, byte* buffers, byte* names)
    {
        for (int attempt = 0; attempt < 4; attempt++)
        {
            for (int i = 0; i < ReceiveBatch; i++)
            {
                messages[i].Header.NameLength = SockaddrBytes;
                messages[i].Header.Flags = 0;
            }

            int received = recvmmsg(channel.Fd, messages, ReceiveBatch, MsgDontWait, null);
            if (received < 0)
            {
                int error = Marshal.GetLastPInvokeError();
                if (error == EAgain)
                {
                    return;
                }

                continue; // EINTR, or an ICMP error of an earlier send reported here (now consumed): read again
            }

            UdpSend.PacketHandler handler = channel.Handler!;
            for (int i = 0; i < received; i++)
            {
                MMsgHdr* message = messages + i;
                if ((message->Header.Flags & MsgTrunc) != 0
                    || !UdpSendBatch.TryReadSockaddr(names + (i * SockaddrBytes), message->Header.NameLength, out TransportAddress from))
                {
                    continue; // larger than any UDP payload can be, or not IP
                }

                try
                {
                    handler(new ReadOnlySpan<byte>(buffers + ((nint)i * SlotBytes), (int)message->Length), from);
                }
                catch (Exception exception)
                {
                    // A bug in a handler: this datagram is lost, the socket and the loop go on.
                    Log.DatagramFailed(_logger, exception, from.ToString());
                }
            }

            return;
        }
    }

    private void CloseRemoved()
    {
        while (_closing.TryDequeue(out EpollUdpChannel? channel))
        {
            Deregister(channel);
        }
    }

    private void Deregister(EpollUdpChannel channel)
    {
        lock (_gate)
        {
            if (!_live.Remove(channel))
            {
                return;
            }
        }

        _ = EpollCtl(_epoll, EpollCtlDel, channel.Fd, 0, 0);
        channel.Self.Free();
        channel.CloseSocket();
    }

    // On the loop thread, at its end: every socket still registered is closed.
    private void Stop()
    {
        EpollUdpChannel[] remaining;
        lock (_gate)
        {
            _stopped = true;
            remaining = [.. _live];
        }

        CloseRemoved();
        foreach (EpollUdpChannel channel in remaining)
        {
            Deregister(channel);
        }

        lock (_gate)
        {
            _ = close(_wake);
            _ = close(_epoll);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping || _stopped)
            {
                return;
            }

            _stopping = true;
            Wake();
        }

        if (Thread.CurrentThread != _thread)
        {
            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }
}
