using System.Net;
using System.Net.Sockets;
using Parley.Stun;

namespace Parley.Bench.TurnLoad;

/// <summary>
/// <c>probe</c>: waits until the server answers a Binding request (RFC 8489 §3), so scripts start measuring only
/// once it is listening. Exit code 0 when it answered, 1 after the timeout.
/// </summary>
internal static class Probe
{
    public static async Task<int> RunAsync(string[] args)
    {
        IPEndPoint? server = null;
        ClientTransport transport = ClientTransport.Udp;
        List<string> errors = [];
        TimeSpan timeout = TimeSpan.FromSeconds(5);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--server" when LoadOptions.TryParseServer(args[i + 1], out IPEndPoint parsed, out transport):
                    server = parsed;
                    break;
                case "--timeout":
                    timeout = LoadOptions.ParseDuration("--timeout", args[i + 1], errors);
                    break;
                default:
                    errors.Add($"{args[i]} {args[i + 1]}: expected --server udp://IP:PORT|tcp://IP:PORT and --timeout 5s.");
                    break;
            }
        }

        if (server is null || errors.Count > 0 || args.Length % 2 != 0)
        {
            Console.Error.WriteLine(string.Join(Environment.NewLine, errors.DefaultIfEmpty("probe needs --server.")));
            return 2;
        }

        using CancellationTokenSource deadline = new(timeout);
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                if (await TryBindingAsync(server, transport, deadline.Token).ConfigureAwait(false))
                {
                    return 0;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
        }

        Console.Error.WriteLine($"probe: no Binding response from {server} within {timeout.TotalSeconds} s.");
        return 1;
    }

    private static async Task<bool> TryBindingAsync(IPEndPoint server, ClientTransport transport, CancellationToken cancellationToken)
    {
        using Socket socket = transport == ClientTransport.Udp
            ? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        byte[] request = new byte[StunHeader.Length + 8];
        StunMessageWriter writer = new(request, StunMessageType.BindingRequest, StunTransactionId.NewRandom());
        writer.WriteFingerprint();
        await socket.SendAsync(request.AsMemory(0, writer.Length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        byte[] response = new byte[1500];
        using CancellationTokenSource wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TimeSpan.FromMilliseconds(200));
        try
        {
            int length = await socket.ReceiveAsync(response, SocketFlags.None, wait.Token).ConfigureAwait(false);
            return StunMessage.TryRead(response.AsSpan(0, length), out StunMessage message).IsComplete
                && message.Method == StunMethod.Binding && message.Class == StunClass.SuccessResponse;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
