using System.Net;
using System.Net.Sockets;
using Parley.Stun;
using Parley.Turn.Hosting.Linux;

namespace Parley.Turn.FunctionalTests;

/// <summary>
/// The epoll loop's send batch over real loopback sockets: datagrams queued in a round reach each destination exactly
/// as queued (same order, sizes and bytes) whether they leave as one segmented send (UDP_SEGMENT) or apart.
/// </summary>
public sealed class UdpSendBatchTests
{
    private const int SolSocket = 1;
    private const int SoNoCheck = 11;

    [Fact]
    public void Datagrams_to_one_destination_leave_as_one_segmented_send_and_arrive_as_queued()
    {
        if (!LinuxInterop.IsSupported)
        {
            return; // batches exist only where the epoll loop runs
        }

        using Socket sender = Bound();
        using Socket a = Bound();
        using Socket b = Bound();
        using var batch = new UdpSendBatch();
        Assert.True(batch.Segments, "the kernel should support UDP_SEGMENT (Linux 4.18+)");

        // a's first four: one segmented send (the last may be shorter); b between a's datagrams ends a run; a longer
        // datagram starts a new one; datagrams longer than 1232 bytes (IPv6's minimum MTU less headers) are never segmented.
        (Socket To, int Length)[] queued =
        [
            (a, 1000), (a, 1000), (a, 1000), (a, 700),
            (b, 1000),
            (a, 500), (a, 500),
            (a, 600),
            (b, 2000), (b, 2000),
        ];
        for (int i = 0; i < queued.Length; i++)
        {
            Assert.True(batch.TryAdd(sender.SafeHandle, Fd(sender), Datagram(i, queued[i].Length), Address(queued[i].To)));
        }

        batch.Flush();

        Assert.Equal(2, batch.SegmentedSends);
        AssertReceived(a, queued.Select((q, i) => (q, i)).Where(x => x.q.To == a).Select(x => Datagram(x.i, x.q.Length)));
        AssertReceived(b, queued.Select((q, i) => (q, i)).Where(x => x.q.To == b).Select(x => Datagram(x.i, x.q.Length)));
    }

    [Fact]
    public void A_segmented_send_the_kernel_refuses_goes_again_as_separate_datagrams_and_repeated_refusals_stop_segmenting()
    {
        if (!LinuxInterop.IsSupported)
        {
            return;
        }

        using Socket sender = Bound();
        using Socket peer = Bound();
        // Without UDP checksums the kernel refuses segmentation (EINVAL) but sends single datagrams.
        sender.SetRawSocketOption(SolSocket, SoNoCheck, BitConverter.GetBytes(1));
        using var batch = new UdpSendBatch();

        var expected = new List<byte[]>();
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < 3; i++)
            {
                byte[] datagram = Datagram((round * 3) + i, 800);
                expected.Add(datagram);
                Assert.True(batch.TryAdd(sender.SafeHandle, Fd(sender), datagram, Address(peer)));
            }

            batch.Flush();
        }

        Assert.Equal(0, batch.SegmentedSends);
        Assert.False(batch.Segments);
        AssertReceived(peer, expected);
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static int Fd(Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();

    private static TransportAddress Address(Socket socket) => TransportAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);

    // Bytes that differ per datagram and per position, so a merged, split or reordered datagram shows.
    private static byte[] Datagram(int index, int length) =>
        [.. Enumerable.Range(0, length).Select(k => (byte)((index * 31) + k))];

    private static void AssertReceived(Socket socket, IEnumerable<byte[]> expected)
    {
        var buffer = new byte[65536];
        foreach (byte[] datagram in expected)
        {
            int length = socket.Receive(buffer);
            Assert.Equal(datagram, buffer.AsSpan(0, length).ToArray());
        }

        Assert.Equal(0, socket.Available);
    }
}
