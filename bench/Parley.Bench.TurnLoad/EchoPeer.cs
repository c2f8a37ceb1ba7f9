using System.Net;
using System.Net.Sockets;

namespace Parley.Bench.TurnLoad;

/// <summary>
/// The peer behind the relay: one UDP socket on 127.0.0.1 that sends every datagram back to the relayed address it
/// came from, on a dedicated thread with blocking <see cref="SocketAddress"/> calls (one recvfrom and one sendto
/// per packet, no allocation). It counts the packets of the measurement window it saw, so loss can be split by
/// direction.
/// </summary>
internal sealed class EchoPeer : IDisposable
{
    private readonly Socket _socket;
    private readonly Thread _thread;
    private readonly MeasurementWindow _window;
    private readonly int _dataOffset;
    private volatile bool _stopping;
    private long _receivedInWindow;
    private long _received;

    /// <param name="window">The measured interval.</param>
    /// <param name="dataOffset">Where the payload starts: 0 behind a relay, 4 in the self-test (whole ChannelData arrives).</param>
    public EchoPeer(MeasurementWindow window, int dataOffset)
    {
        _window = window;
        _dataOffset = dataOffset;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        SocketTuning.SetBuffers(_socket, 4 * 1024 * 1024);
        _socket.ReceiveTimeout = 200; // lets the thread notice Dispose within a bounded time
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _thread = new Thread(Run) { IsBackground = true, Name = "echo-peer" };
        _thread.Start();
    }

    public IPEndPoint EndPoint { get; }

    public long ReceivedInWindow => Volatile.Read(ref _receivedInWindow);

    public long Received => Volatile.Read(ref _received);

    public long SendErrors { get; private set; }

    public void Dispose()
    {
        _stopping = true;
        _thread.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
    }

    private void Run()
    {
        byte[] buffer = GC.AllocateArray<byte>(65536, pinned: true);
        SocketAddress from = new(AddressFamily.InterNetwork);
        while (!_stopping)
        {
            int length;
            try
            {
                length = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException)
            {
                continue; // the receive timeout, or an ICMP error from an earlier send
            }

            Span<byte> data = buffer.AsSpan(0, length);
            Volatile.Write(ref _received, _received + 1);
            if (_window.Contains(Payload.ReadSendTimestamp(data[Math.Min(_dataOffset, length)..])))
            {
                Volatile.Write(ref _receivedInWindow, _receivedInWindow + 1);
            }

            try
            {
                _socket.SendTo(data, SocketFlags.None, from);
            }
            catch (SocketException)
            {
                SendErrors++;
            }
        }
    }
}
