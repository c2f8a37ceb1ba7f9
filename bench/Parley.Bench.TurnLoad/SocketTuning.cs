using System.Net.Sockets;

namespace Parley.Bench.TurnLoad;

internal static class SocketTuning
{
    // Linux SOL_SOCKET options that let root exceed net.core.rmem_max / wmem_max.
    private const int SolSocket = 1;
    private const int SoSndBufForce = 32;
    private const int SoRcvBufForce = 33;

    /// <summary>Large socket buffers so bursts are not dropped by the tool's own sockets.</summary>
    public static void SetBuffers(Socket socket, int bytes)
    {
        try
        {
            socket.SetRawSocketOption(SolSocket, SoRcvBufForce, BitConverter.GetBytes(bytes));
            socket.SetRawSocketOption(SolSocket, SoSndBufForce, BitConverter.GetBytes(bytes));
        }
        catch (SocketException)
        {
            // Not root: fall back to what net.core.rmem_max / wmem_max allow.
            socket.ReceiveBufferSize = bytes;
            socket.SendBufferSize = bytes;
        }
    }
}
