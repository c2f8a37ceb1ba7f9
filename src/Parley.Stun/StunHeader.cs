using System.Buffers.Binary;

namespace Parley.Stun;

/// <summary>
/// The 20-byte STUN header (RFC 8489 §5): two zero bits, the 14-bit message type, the 16-bit message length
/// (attributes only, a multiple of 4), the magic cookie 0x2112A442 and the 96-bit transaction ID.
/// </summary>
public static class StunHeader
{
    /// <summary>The header length in bytes.</summary>
    public const int Length = 20;

    /// <summary>The fixed magic cookie (RFC 8489 §5).</summary>
    public const uint MagicCookie = 0x2112A442;

    /// <summary>The longest STUN message the 16-bit length field can describe (a multiple of four after the header).</summary>
    public const int MaxMessageLength = Length + 0xFFFC;

    /// <summary>
    /// Cheap classification (RFC 8489 §5, RFC 8656 §12): the two most significant bits are zero and the magic cookie
    /// is in place. Says nothing about the rest of the message.
    /// </summary>
    public static bool IsStun(ReadOnlySpan<byte> packet) =>
        packet.Length >= Length
        && (packet[0] & 0xC0) == 0
        && BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) == MagicCookie;

    internal static ushort ReadMessageLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt16BigEndian(header[2..]);

    internal static void WriteMessageLength(Span<byte> header, int attributesLength) =>
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)attributesLength);

    internal static void Write(Span<byte> destination, StunMessageType type, in StunTransactionId transactionId)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, type.Value);
        WriteMessageLength(destination, 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], MagicCookie);
        transactionId.CopyTo(destination[8..]);
    }

    /// <summary>Attribute values are padded to a multiple of four bytes (RFC 8489 §14).</summary>
    internal static int Pad4(int length) => (length + 3) & ~3;
}
