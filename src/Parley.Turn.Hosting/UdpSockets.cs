using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Parley.Stun;

namespace Parley.Turn.Hosting;

/// <summary>Helpers shared by the UDP sockets: one reusable <see cref="SocketAddress"/> per thread for sends.</summary>
internal static class UdpSend
{
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
            // UDP: a failed send (ICMP unreachable reported late, buffer full) is a lost datagram.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public static Socket Bind(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(endPoint);

            // Synchronous sends must never stall a receive loop: a full send buffer drops the datagram instead.
            socket.Blocking = false;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Receives datagrams until the socket closes, with the SocketAddress overload (no per-packet allocation), and
    /// hands each to <paramref name="onPacket"/>.
    /// </summary>
    public static async Task ReceiveLoop(Socket socket, PacketHandler onPacket, ILogger logger)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var remote = new SocketAddress(socket.AddressFamily);
        while (true)
        {
            int received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, remote).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize
                or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.ConnectionRefused)
            {
                continue; // ICMP errors of earlier sends, or an oversized datagram: keep receiving
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.OperationAborted)
            {
                return;
            }
            catch (Exception exception)
            {
                Log.ReceiveLoopFailed(logger, exception, socket.LocalEndPoint?.ToString() ?? "?");
                return;
            }

            if (TransportAddress.TryRead(remote, out TransportAddress from))
            {
                onPacket(buffer.AsSpan(0, received), from);
            }
        }
    }

    public delegate void PacketHandler(ReadOnlySpan<byte> packet, in TransportAddress from);
}

/// <summary>A UDP listener (STUN/TURN port): one socket, many clients.</summary>
internal sealed class UdpClientTransport : ITurnClientTransport, IDisposable
{
    private readonly Socket _socket;

    public UdpClientTransport(Socket socket)
    {
        _socket = socket;
        LocalAddress = TransportAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);
    }

    public TurnTransportProtocol Protocol => TurnTransportProtocol.Udp;

    public TransportAddress LocalAddress { get; }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public void Send(ReadOnlySpan<byte> packet, in TransportAddress client) => UdpSend.SendTo(_socket, packet, client);

    public Task Run(TurnServer server, ILogger logger) =>
        UdpSend.ReceiveLoop(_socket, (ReadOnlySpan<byte> packet, in TransportAddress from) => server.OnClientPacket(this, from, packet), logger);

    public void Dispose() => _socket.Dispose();
}

/// <summary>A relay socket: UDP bound on the relay address, in the relay port range.</summary>
internal sealed class UdpRelaySocket(Socket socket, ILogger logger) : IRelaySocket
{
    public TransportAddress LocalAddress { get; } = TransportAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);

    public void SendTo(ReadOnlySpan<byte> data, in TransportAddress peer) => UdpSend.SendTo(socket, data, peer);

    public void Start(IRelayReceiver receiver) =>
        _ = Task.Run(() => UdpSend.ReceiveLoop(socket, receiver.OnPeerPacket, logger));

    public void Dispose() => socket.Dispose();
}

/// <summary>Binds real UDP relay sockets; a port in use is reported so that the core tries another.</summary>
public sealed class UdpRelaySocketFactory(ILogger<UdpRelaySocketFactory> logger) : IRelaySocketFactory
{
    /// <inheritdoc/>
    public bool TryBind(TransportAddress address, out IRelaySocket? socket)
    {
        try
        {
            socket = new UdpRelaySocket(UdpSend.Bind(address.ToIPEndPoint()), logger);
            return true;
        }
        catch (SocketException)
        {
            socket = null;
            return false;
        }
    }
}
