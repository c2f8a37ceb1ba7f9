using System.Buffers.Binary;

namespace Parley.Stun;

/// <summary>
/// Frames TURN over TCP and TLS (RFC 8656 §12.5): given the bytes buffered so far, says whether a whole STUN message
/// or ChannelData message (padded to four bytes) is at the front, how long it is, or how many bytes are needed.
/// Never reads a socket and never throws; a connection whose bytes are <see cref="ReadStatus.Invalid"/> cannot be
/// resynchronised and should be closed.
/// </summary>
public static class StreamFramer
{
    /// <summary>
    /// Complete: the first <see cref="ReadResult.Consumed"/> bytes are one frame of <paramref name="kind"/> (for
    /// ChannelData this includes the padding). Incomplete: buffer at least <see cref="ReadResult.Length"/> bytes and
    /// call again. Invalid: neither STUN nor ChannelData.
    /// </summary>
    public static ReadResult TryGetFrame(ReadOnlySpan<byte> buffered, out PacketKind kind)
    {
        kind = PacketKind.Unknown;
        if (buffered.IsEmpty)
        {
            return ReadResult.Incomplete(ChannelData.HeaderLength);
        }

        switch (buffered[0] & 0xC0)
        {
            case 0x00:
                // STUN: wait for the whole header so the cookie can be checked before trusting the length.
                if (buffered.Length < StunHeader.Length)
                {
                    return ReadResult.Incomplete(StunHeader.Length);
                }

                if (BinaryPrimitives.ReadUInt32BigEndian(buffered[4..]) != StunHeader.MagicCookie)
                {
                    return ReadResult.Invalid(ReadError.BadMagicCookie);
                }

                int attributesLength = StunHeader.ReadMessageLength(buffered);
                if ((attributesLength & 3) != 0)
                {
                    return ReadResult.Invalid(ReadError.BadMessageLength);
                }

                kind = PacketKind.Stun;
                return Frame(buffered, StunHeader.Length + attributesLength);

            case 0x40 when (buffered[0] & 0xF0) == 0x40:
                if (buffered.Length < ChannelData.HeaderLength)
                {
                    return ReadResult.Incomplete(ChannelData.HeaderLength);
                }

                kind = PacketKind.ChannelData;
                return Frame(buffered, ChannelData.GetEncodedLength(BinaryPrimitives.ReadUInt16BigEndian(buffered[2..]), padToFourBytes: true));

            default:
                return ReadResult.Invalid(ReadError.UnknownPacket);
        }
    }

    private static ReadResult Frame(ReadOnlySpan<byte> buffered, int length) =>
        buffered.Length >= length ? ReadResult.Complete(length) : ReadResult.Incomplete(length);
}
