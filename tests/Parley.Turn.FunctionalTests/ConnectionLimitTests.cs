using System.Net;
using System.Net.Sockets;

namespace Parley.Turn.FunctionalTests;

/// <summary>Each TURN-over-TCP connection costs a thread: beyond <c>MaxStreamConnections</c> new ones are closed at once.</summary>
public sealed class ConnectionLimitTests
{
    // A Binding request: type 0x0001, length 0, magic cookie, transaction id.
    private static readonly byte[] s_binding = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

    [Fact]
    public async Task ConnectionsBeyondTheLimitAreClosedAndTheOthersKeepWorking()
    {
        await using TurnHost host = await TurnHost.StartAsync(new() { ["Turn:MaxStreamConnections"] = "2" });
        IPEndPoint server = host.Endpoints.Tcp[0];
        using var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var third = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await first.ConnectAsync(server);
        await second.ConnectAsync(server);
        await AssertAnswersBinding(first);
        await AssertAnswersBinding(second);

        await third.ConnectAsync(server); // the kernel accepts; the listener then closes it
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read;
        try
        {
            read = await third.ReceiveAsync(new byte[64], SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            read = 0; // reset: closed as well
        }

        Assert.Equal(0, read);
        await AssertAnswersBinding(first);

        first.Close(); // a slot frees up
        await PollUntilAnswered(server, TimeSpan.FromSeconds(10));
    }

    private static async Task AssertAnswersBinding(Socket socket)
    {
        await socket.SendAsync(s_binding, SocketFlags.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var response = new byte[256];
        int read = await socket.ReceiveAsync(response, SocketFlags.None, timeout.Token);
        Assert.True(read >= 20, "no Binding response");
        Assert.Equal(0x0101, (response[0] << 8) | response[1]);
    }

    private static async Task PollUntilAnswered(IPEndPoint server, TimeSpan limit)
    {
        DateTime deadline = DateTime.UtcNow + limit;
        while (true)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(server);
            try
            {
                await AssertAnswersBinding(socket);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100); // the server notices the closed slot asynchronously; bounded by the deadline
            }
        }
    }
}
