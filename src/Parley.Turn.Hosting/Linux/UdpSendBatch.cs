using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Parley.Stun;
using static Parley.Turn.Hosting.Linux.LinuxInterop;

namespace Parley.Turn.Hosting.Linux;

/// <summary>
/// The datagrams an event-loop thread sends while it handles one round of ready sockets, sent together at the end of
/// the round with one sendmmsg(2) per socket instead of one sendto(2) per datagram. Each loop thread owns one and
/// makes it <see cref="Current"/>; on any other thread there is none and sends go straight to the socket.
/// Where Linux supports UDP segmentation offload, a run of datagrams from one socket to one destination (a burst of
/// one call's packets) goes as one segmented message: the kernel routes and builds the packet once and cuts it into
/// the original datagrams, which more than halves the CPU per relayed packet under load (bench/Parley.Bench.TurnLoad).
/// </summary>
/// <remarks>
/// TCP connections written from a loop thread defer their writes to the end of the round too
/// (<see cref="Defer"/>), so that the frames of several datagrams leave in one write. The core's send contract allows this: the span is copied here, and UDP may delay or drop. Each queued datagram
/// holds a reference on its socket's handle, so a socket closed meanwhile (by another thread) keeps its descriptor
/// until the datagram is sent and cannot be reused for another socket under us.
/// </remarks>
internal sealed unsafe class UdpSendBatch : IDisposable
{
    private const int MaxDatagrams = 64;
    private const int DataBytes = 128 * 1024;

    // UDP segmentation offload (UDP_SEGMENT, Linux 4.18+): the limits of one segmented send.
    private const int SolUdp = 17;
    private const int UdpSegment = 103;
    private const int MaxSegments = 64; // the kernel's UDP_MAX_SEGMENTS (64 before Linux 6.x)
    private const int MaxSegmentedBytes = 65000; // one IP packet's worth before segmentation
    // A segment must fit the path MTU (the kernel refuses segmentation rather than fragment): 1232 bytes fit IPv6's
    // minimum MTU of 1280 with headers, so no real path refuses them, and WebRTC keeps its packets under ~1200 bytes.
    private const int MaxSegmentBytes = 1232;
    private const int MaxSegmentationRefusals = 16;
    private static readonly int SegmentControlBytes = sizeof(nuint) + 8 + 8; // CMSG_SPACE(sizeof(uint16_t))
    private static readonly bool s_segmentationSupported = ProbeSegmentation();

    [ThreadStatic]
    private static UdpSendBatch? t_current;

    private const int PoolSize = 16;
    private static readonly UdpSendBatch?[] s_pool = new UdpSendBatch?[PoolSize];

    private readonly Entry[] _entries = new Entry[MaxDatagrams];
    private readonly List<IDeferredSender> _deferred = [];
    private readonly byte* _data;
    private readonly byte* _names;
    private readonly IoVec* _iov;
    private readonly MMsgHdr* _messages;
    private readonly byte* _control;
    private int _count;
    private int _used;
    private bool _segmentation = s_segmentationSupported;
    private int _segmentationRefusals;

    public UdpSendBatch()
    {
        _data = (byte*)NativeMemory.Alloc(DataBytes);
        _names = (byte*)NativeMemory.AllocZeroed(MaxDatagrams * SockaddrBytes);
        _iov = (IoVec*)NativeMemory.AllocZeroed((nuint)(MaxDatagrams * sizeof(IoVec)));
        _messages = (MMsgHdr*)NativeMemory.AllocZeroed((nuint)(MaxDatagrams * sizeof(MMsgHdr)));
        _control = (byte*)NativeMemory.AllocZeroed((nuint)(MaxDatagrams * SegmentControlBytes));
    }

    /// <summary>
    /// Sends that carried several datagrams as one segmented message (test hook and diagnostics): consecutive datagrams
    /// of a round from one socket to one destination, of one size (the last may be shorter), go to the kernel as one
    /// UDP_SEGMENT send, which walks the routing and IP output path once for all of them.
    /// </summary>
    public long SegmentedSends { get; private set; }

    /// <summary>Whether this batch still segments (the kernel supports it and has not refused it repeatedly).</summary>
    public bool Segments => _segmentation;

    private struct Entry
    {
        public SafeSocketHandle? Handle;
        public int Fd;
        public int Offset;
        public int Length;
        public int NameIndex;
        public uint NameLength;
    }

    /// <summary>This thread's batch, if it is an event-loop thread.</summary>
    public static UdpSendBatch? Current => t_current;

    /// <summary>Makes this the calling thread's batch (the loop thread, once).</summary>
    public void MakeCurrent() => t_current = this;

    /// <summary>
    /// For a thread that is not a loop's (a TCP connection's) and has several frames to hand to the core at once:
    /// a batch from a small pool, made current until <see cref="EndBorrowed"/>; null where batches are not used.
    /// </summary>
    public static UdpSendBatch? BeginBorrowed()
    {
        if (!LinuxInterop.IsSupported || t_current is not null)
        {
            return null;
        }

        UdpSendBatch? batch = null;
        for (int i = 0; i < PoolSize && batch is null; i++)
        {
            batch = Interlocked.Exchange(ref s_pool[i], null);
        }

        batch ??= new UdpSendBatch();
        t_current = batch;
        return batch;
    }

    /// <summary>Sends what <paramref name="batch"/> holds and gives it back to the pool.</summary>
    public static void EndBorrowed(UdpSendBatch batch)
    {
        try
        {
            batch.Flush();
        }
        finally
        {
            t_current = null;
            bool pooled = false;
            for (int i = 0; i < PoolSize && !pooled; i++)
            {
                pooled = Interlocked.CompareExchange(ref s_pool[i], batch, null) is null;
            }

            if (!pooled)
            {
                batch.Dispose();
            }
        }
    }

    /// <summary>Calls <paramref name="sender"/>'s <see cref="IDeferredSender.SendDeferred"/> at the end of this round (once per call).</summary>
    public void Defer(IDeferredSender sender) => _deferred.Add(sender);

    /// <summary>
    /// Queues a copy of <paramref name="data"/> for <paramref name="destination"/> on the socket; false if it is too
    /// large to queue (the caller sends it itself). A socket already closed drops the datagram.
    /// </summary>
    public bool TryAdd(SafeSocketHandle handle, int fd, ReadOnlySpan<byte> data, in TransportAddress destination)
    {
        if (data.Length > DataBytes || destination.Family == 0)
        {
            return false;
        }

        if (_count == MaxDatagrams || _used + data.Length > DataBytes)
        {
            SendDatagrams();
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            return true; // closed meanwhile: the datagram is lost, as on a closed socket
        }

        int index = _count++;
        uint nameLength = WriteSockaddr(_names + (index * SockaddrBytes), destination);
        data.CopyTo(new Span<byte>(_data + _used, data.Length));
        _entries[index] = new Entry
        {
            Handle = handle,
            Fd = fd,
            Offset = _used,
            Length = data.Length,
            NameIndex = index,
            NameLength = nameLength,
        };
        _used += data.Length;
        return true;
    }

    /// <summary>
    /// Sends everything queued: one sendmmsg(2) per socket (more if the kernel takes fewer), in queue order; then the
    /// deferred connections' writes.
    /// </summary>
    public void Flush()
    {
        SendDatagrams();
        for (int i = 0; i < _deferred.Count; i++)
        {
            _deferred[i].SendDeferred();
        }

        _deferred.Clear();
    }

    private void SendDatagrams()
    {
        for (int i = 0; i < _count; i++)
        {
            if (_entries[i].Handle is null)
            {
                continue; // sent with an earlier entry's socket
            }

            int fd = _entries[i].Fd;
            int messages = 0;
            int iovs = 0;
            int segmentBytes = 0; // the current message's segment size while it can take more segments, else 0
            int messageBytes = 0;
            for (int k = i; k < _count; k++)
            {
                ref Entry entry = ref _entries[k];
                if (entry.Handle is null || entry.Fd != fd)
                {
                    continue;
                }

                IoVec* iov = _iov + iovs++;
                iov->Base = _data + entry.Offset;
                iov->Length = (nuint)entry.Length;
                MMsgHdr* previous = _messages + messages - 1;
                if (segmentBytes > 0 && entry.Length <= segmentBytes && messageBytes + entry.Length <= MaxSegmentedBytes
                    && previous->Header.IovLength < MaxSegments && SameName(previous, entry))
                {
                    // Another segment of the previous message: same socket, same destination, not longer.
                    if (previous->Header.IovLength++ == 1)
                    {
                        SetSegmentSize(messages - 1, (ushort)segmentBytes); // a second segment: now it is segmented
                    }

                    messageBytes += entry.Length;
                    segmentBytes = entry.Length == segmentBytes ? segmentBytes : 0; // a shorter one ends it
                    continue;
                }

                MMsgHdr* message = _messages + messages;
                message->Header.Name = _names + (entry.NameIndex * SockaddrBytes);
                message->Header.NameLength = entry.NameLength;
                message->Header.Iov = iov;
                message->Header.IovLength = 1;
                message->Header.Control = null;
                message->Header.ControlLength = 0;
                messages++;
                segmentBytes = _segmentation && entry.Length <= MaxSegmentBytes ? entry.Length : 0;
                messageBytes = entry.Length;
            }

            SendAll(fd, messages);

            for (int k = i; k < _count; k++)
            {
                ref Entry entry = ref _entries[k];
                if (entry.Handle is { } handle && entry.Fd == fd)
                {
                    handle.DangerousRelease();
                    entry.Handle = null;
                }
            }
        }

        _count = 0;
        _used = 0;
    }

    private bool SameName(MMsgHdr* message, in Entry entry) =>
        message->Header.NameLength == entry.NameLength
        && new ReadOnlySpan<byte>(message->Header.Name, (int)entry.NameLength)
            .SequenceEqual(new ReadOnlySpan<byte>(_names + (entry.NameIndex * SockaddrBytes), (int)entry.NameLength));

    // The message's control data: one cmsghdr (SOL_UDP, UDP_SEGMENT) holding the segment size.
    private void SetSegmentSize(int message, ushort segmentBytes)
    {
        MMsgHdr* header = _messages + message;
        byte* control = _control + (message * SegmentControlBytes);
        *(nuint*)control = (nuint)(sizeof(nuint) + 8 + sizeof(ushort)); // cmsg_len = CMSG_LEN(2)
        *(int*)(control + sizeof(nuint)) = SolUdp;
        *(int*)(control + sizeof(nuint) + 4) = UdpSegment;
        *(ushort*)(control + sizeof(nuint) + 8) = segmentBytes;
        header->Header.Control = control;
        header->Header.ControlLength = (nuint)SegmentControlBytes;
    }

    private void SendAll(int fd, int count)
    {
        int done = 0;
        while (done < count)
        {
            int sent = sendmmsg(fd, _messages + done, (uint)(count - done), MsgDontWait);
            if (sent > 0)
            {
                SegmentedSends += CountSegmented(done, sent);
                done += sent;
                continue;
            }

            int error = Marshal.GetLastPInvokeError();
            if (sent < 0 && error == EIntr)
            {
                continue;
            }

            if (sent < 0 && error is EAgain or ENoBufs)
            {
                return; // send buffer full: the rest is lost, as UDP may (the buffers are 1-4 MiB; it takes a flood)
            }

            if (_messages[done].Header.Control is not null)
            {
                SendSegmentsApart(fd, _messages + done, refused: error is EInval or EIo or EMsgSize);
            }

            done++; // this datagram failed (an ICMP error reported late, an unreachable destination): skip it
        }
    }

    private long CountSegmented(int first, int count)
    {
        long segmented = 0;
        for (int m = first; m < first + count; m++)
        {
            segmented += _messages[m].Header.Control is not null ? 1 : 0;
        }

        return segmented;
    }

    // A segmented message that failed goes again as separate datagrams, so that one bad datagram does not take the
    // others with it. Where the kernel refused segmentation itself (EIO: no checksum offload on the route's device;
    // EINVAL: a segment above the path MTU, or checksums switched off), a few refusals make this batch stop segmenting.
    private void SendSegmentsApart(int fd, MMsgHdr* failed, bool refused)
    {
        if (refused && ++_segmentationRefusals >= MaxSegmentationRefusals)
        {
            _segmentation = false;
        }

        int segments = (int)failed->Header.IovLength;
        MMsgHdr* apart = stackalloc MMsgHdr[MaxSegments];
        for (int s = 0; s < segments; s++)
        {
            apart[s] = default;
            apart[s].Header.Name = failed->Header.Name;
            apart[s].Header.NameLength = failed->Header.NameLength;
            apart[s].Header.Iov = failed->Header.Iov + s;
            apart[s].Header.IovLength = 1;
        }

        int done = 0;
        while (done < segments)
        {
            int sent = sendmmsg(fd, apart + done, (uint)(segments - done), MsgDontWait);
            if (sent > 0)
            {
                done += sent;
            }
            else if (sent < 0 && Marshal.GetLastPInvokeError() is EAgain or ENoBufs)
            {
                return;
            }
            else if (sent == 0 || Marshal.GetLastPInvokeError() != EIntr)
            {
                done++;
            }
        }
    }

    /// <summary>Writes a Linux sockaddr_in or sockaddr_in6 for <paramref name="address"/>; returns its length.</summary>
    public static uint WriteSockaddr(byte* name, in TransportAddress address)
    {
        var span = new Span<byte>(name, SockaddrBytes);
        span.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], address.Port);
        if (address.Family == StunAddressFamily.IPv6)
        {
            *(ushort*)name = AfInet6;
            address.WriteAddressBytes(span[8..]);
            return SockaddrBytes;
        }

        *(ushort*)name = AfInet;
        address.WriteAddressBytes(span[4..]);
        return 16;
    }

    /// <summary>Reads a Linux sockaddr_in or sockaddr_in6 as the kernel filled it; false for any other family.</summary>
    public static bool TryReadSockaddr(byte* name, uint length, out TransportAddress address)
    {
        var span = new ReadOnlySpan<byte>(name, (int)Math.Min(length, SockaddrBytes));
        ushort family = span.Length >= 2 ? *(ushort*)name : (ushort)0;
        if (family == AfInet && span.Length >= 8)
        {
            address = TransportAddress.FromIPv4(span.Slice(4, 4), BinaryPrimitives.ReadUInt16BigEndian(span[2..]));
            return true;
        }

        if (family == AfInet6 && span.Length >= 24)
        {
            address = TransportAddress.FromIPv6(span.Slice(8, 16), BinaryPrimitives.ReadUInt16BigEndian(span[2..]));
            return true;
        }

        address = default;
        return false;
    }

    public void Dispose()
    {
        SendDatagrams();
        if (t_current == this)
        {
            t_current = null;
        }

        NativeMemory.Free(_data);
        NativeMemory.Free(_names);
        NativeMemory.Free(_iov);
        NativeMemory.Free(_messages);
        NativeMemory.Free(_control);
    }

    // UDP_SEGMENT is readable with getsockopt wherever sendmsg honours it; elsewhere (before Linux 4.18) a control
    // message of an unknown type could be ignored and the datagrams sent as one, so never try there.
    private static bool ProbeSegmentation()
    {
        if (!LinuxInterop.IsSupported)
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            Span<byte> value = stackalloc byte[4];
            return socket.GetRawSocketOption(SolUdp, UdpSegment, value) == 4;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>A connection that collects what a loop thread sends it during a round and writes it at the round's end.</summary>
internal interface IDeferredSender
{
    /// <summary>Writes what was deferred (on the thread that deferred it).</summary>
    void SendDeferred();
}
