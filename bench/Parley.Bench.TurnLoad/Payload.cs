using System.Buffers.Binary;

namespace Parley.Bench.TurnLoad;

/// <summary>
/// The application data each ChannelData packet carries: a sequence number and the send time
/// (<see cref="System.Diagnostics.Stopwatch"/> ticks), then filler. The echo peer sends it back unchanged, so the
/// round trip is measured on one clock and the peer can tell which packets belong to the measurement window.
/// </summary>
internal static class Payload
{
    public const int MinSize = 16;

    public static void Write(Span<byte> data, long sequence, long sendTimestamp)
    {
        BinaryPrimitives.WriteInt64LittleEndian(data, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(data[8..], sendTimestamp);
    }

    public static long ReadSendTimestamp(ReadOnlySpan<byte> data) =>
        data.Length >= MinSize ? BinaryPrimitives.ReadInt64LittleEndian(data[8..]) : long.MinValue;
}
