using System.Net;
using System.Net.Sockets;
using Parley.Stun;
using Parley.Turn.Hosting;

namespace Parley.Turn.FunctionalTests;

/// <summary>
/// TURN over plain TCP sends frames straight to the socket while nothing is queued and queues the rest of a frame the
/// kernel took only partly: the client must still get every frame whole and in order.
/// </summary>
public sealed class StreamConnectionTests
{
    [Fact]
    public async Task DirectSendsToASlowClientKeepFramesWholeAndInOrder()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.ReceiveBufferSize = 4096; // small buffers on both ends: direct sends soon go partial, then would block
        await client.ConnectAsync(listener.LocalEndPoint!);
        using Socket server = await listener.AcceptAsync();
        server.SendBufferSize = 4096;

        var address = TransportAddress.FromIPEndPoint((IPEndPoint)server.LocalEndPoint!);
        using var connection = new StreamConnection(TurnTransportProtocol.Tcp, address, address, CancellationToken.None);
        using var stream = new NetworkStream(server, ownsSocket: false);
        connection.UseDirectSends(server);
        Task writer = connection.WriteLoop(stream);

        const int Frames = 300, FrameBytes = 4000; // fewer frames than the queue holds (512): none may be dropped
        byte[] frame = new byte[FrameBytes];
        for (int i = 0; i < Frames; i++)
        {
            Array.Fill(frame, (byte)i);
            BitConverter.TryWriteBytes(frame, i);
            connection.Send(frame, address);
        }

        byte[] received = new byte[Frames * FrameBytes];
        int total = 0;
        while (total < received.Length)
        {
            int read = await client.ReceiveAsync(received.AsMemory(total)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, read);
            total += read;
        }

        for (int i = 0; i < Frames; i++)
        {
            Array.Fill(frame, (byte)i);
            BitConverter.TryWriteBytes(frame, i);
            Assert.True(received.AsSpan(i * FrameBytes, FrameBytes).SequenceEqual(frame), $"frame {i} differs");
        }

        connection.Complete();
        await writer.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
