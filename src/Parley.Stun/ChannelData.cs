using System.Buffers;
using System.Buffers.Binary;

namespace Parley.Stun;

/// <summary>
/// A ChannelData message (RFC 8656 §12.4): a 16-bit channel number (0x4000-0x4FFF), a 16-bit length of the
/// application data, then the data. Over UDP the padding to four bytes may be omitted; over TCP and TLS it must be
/// present (RFC 8656 §12.5). A view over the caller's buffer, valid only while that buffer is.
/// </summary>
public readonly ref struct ChannelData
{
    /// <summary>The ChannelData header length.</summary>
    public const int HeaderLength = 4;

    /// <summary>The lowest channel number a client may bind (RFC 8656 §12).</summary>
    public const ushort MinChannelNumber = 0x4000;

    /// <summary>The highest channel number a client may bind (RFC 8656 §12).</summary>
    public const ushort MaxChannelNumber = 0x4FFF;

    private ChannelData(ushort channelNumber, ReadOnlySpan<byte> data)
    {
        ChannelNumber = channelNumber;
        Data = data;
    }

    /// <summary>The channel number.</summary>
    public ushort ChannelNumber { get; }

    /// <summary>The application data, without padding.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>Whether <paramref name="channelNumber"/> is in the range a ChannelBind may use (0x4000-0x4FFF).</summary>
    public static bool IsValidChannelNumber(ushort channelNumber) => channelNumber is >= MinChannelNumber and <= MaxChannelNumber;

    /// <summary>
    /// Reads a ChannelData message from the start of <paramref name="buffer"/>. Complete: consumed is the header plus
    /// the data, without padding; use <see cref="StreamFramer"/> to step over padded frames on a stream.
    /// Incomplete: the data runs past the buffer (for a datagram: truncated, drop it).
    /// </summary>
    public static ReadResult TryRead(ReadOnlySpan<byte> buffer, out ChannelData channelData)
    {
        channelData = default;
        if (buffer.Length < HeaderLength)
        {
            return buffer.Length > 0 && (buffer[0] & 0xF0) != 0x40 ? ReadResult.Invalid(ReadError.BadChannelNumber) : ReadResult.Incomplete(HeaderLength);
        }

        ushort channelNumber = BinaryPrimitives.ReadUInt16BigEndian(buffer);
        if (!IsValidChannelNumber(channelNumber))
        {
            return ReadResult.Invalid(ReadError.BadChannelNumber);
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
        if (buffer.Length < HeaderLength + length)
        {
            return ReadResult.Incomplete(HeaderLength + length);
        }

        channelData = new ChannelData(channelNumber, buffer.Slice(HeaderLength, length));
        return ReadResult.Complete(HeaderLength + length);
    }

    /// <summary>The size of a ChannelData message carrying <paramref name="dataLength"/> bytes, padded for streams or not.</summary>
    public static int GetEncodedLength(int dataLength, bool padToFourBytes) =>
        HeaderLength + (padToFourBytes ? StunHeader.Pad4(dataLength) : dataLength);

    /// <summary>
    /// Writes only the 4-byte header, for a relay that received the peer's data straight into
    /// <c>destination[4..]</c> (RFC 8656 §12.4); no copy of the data.
    /// </summary>
    public static bool TryWriteHeader(Span<byte> destination, ushort channelNumber, int dataLength)
    {
        if (destination.Length < HeaderLength || (uint)dataLength > ushort.MaxValue)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, channelNumber);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)dataLength);
        return true;
    }

    /// <summary>
    /// Writes a whole ChannelData message; with <paramref name="padToFourBytes"/> (TCP and TLS, RFC 8656 §12.5) the data
    /// is followed by zero padding. False, with nothing promised about <paramref name="destination"/>, if it does not fit.
    /// </summary>
    public static bool TryWrite(Span<byte> destination, ushort channelNumber, ReadOnlySpan<byte> data, bool padToFourBytes, out int written)
    {
        written = GetEncodedLength(data.Length, padToFourBytes);
        if (destination.Length < written || !TryWriteHeader(destination, channelNumber, data.Length))
        {
            written = 0;
            return false;
        }

        data.CopyTo(destination[HeaderLength..]);
        destination[(HeaderLength + data.Length)..written].Clear();
        return true;
    }

    /// <summary>Writes a whole ChannelData message to <paramref name="output"/>; returns the bytes written.</summary>
    public static int Write(IBufferWriter<byte> output, ushort channelNumber, ReadOnlySpan<byte> data, bool padToFourBytes)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(data.Length, ushort.MaxValue, nameof(data));
        int length = GetEncodedLength(data.Length, padToFourBytes);
        TryWrite(output.GetSpan(length), channelNumber, data, padToFourBytes, out int written);
        output.Advance(written);
        return written;
    }
}
