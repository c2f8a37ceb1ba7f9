using System.Buffers.Binary;

namespace Parley.Stun;

/// <summary>What a packet on a TURN server's port is.</summary>
public enum PacketKind : byte
{
    /// <summary>Neither STUN nor ChannelData: drop it (datagram) or close the connection (stream).</summary>
    Unknown,

    /// <summary>A STUN message (two zero bits and the magic cookie).</summary>
    Stun,

    /// <summary>A ChannelData message (channel 0x4000-0x4FFF and a length that fits).</summary>
    ChannelData,
}

/// <summary>
/// Cheap demultiplexing of a datagram before any parsing (RFC 8656 §12: the first two bits are 0b00 for STUN and
/// 0b01 for ChannelData; RFC 8489 §5: the magic cookie). Looks at no more than the first eight bytes.
/// </summary>
public static class PacketClassifier
{
    /// <summary>Classifies one datagram (or one frame already cut from a stream).</summary>
    public static PacketKind Classify(ReadOnlySpan<byte> packet)
    {
        if (StunHeader.IsStun(packet))
        {
            return PacketKind.Stun;
        }

        // Channel numbers 0x4000-0x4FFF: first byte 0x40-0x4F. The data must fit, with at most three bytes of padding.
        if (packet.Length >= ChannelData.HeaderLength && (packet[0] & 0xF0) == 0x40)
        {
            int unused = packet.Length - ChannelData.HeaderLength - BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
            if (unused is >= 0 and <= 3)
            {
                return PacketKind.ChannelData;
            }
        }

        return PacketKind.Unknown;
    }
}
