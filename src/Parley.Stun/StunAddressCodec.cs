using System.Buffers.Binary;

namespace Parley.Stun;

/// <summary>
/// The address attribute value (RFC 8489 §14.1, §14.2): a reserved byte, the family, the port and the address,
/// plain (MAPPED-ADDRESS, ALTERNATE-SERVER) or XOR-ed (XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS).
/// </summary>
public static class StunAddressCodec
{
    /// <summary>The value length for an IPv4 address.</summary>
    public const int IPv4Length = 8;

    /// <summary>The value length for an IPv6 address.</summary>
    public const int IPv6Length = 20;

    /// <summary>The value length needed for <paramref name="address"/>.</summary>
    public static int GetLength(in TransportAddress address) => address.Family == StunAddressFamily.IPv6 ? IPv6Length : IPv4Length;

    /// <summary>Decodes a plain address value; false for an unknown family or a length that does not match it.</summary>
    public static bool TryRead(ReadOnlySpan<byte> value, out TransportAddress address)
    {
        // §14.1: the first 8 bits are ignored by receivers.
        if (!TryReadFamily(value, out StunAddressFamily family))
        {
            address = default;
            return false;
        }

        ushort port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]);
        address = family == StunAddressFamily.IPv4
            ? TransportAddress.FromIPv4(value.Slice(4, 4), port)
            : TransportAddress.FromIPv6(value.Slice(4, 16), port);
        return true;
    }

    /// <summary>Decodes an XOR-ed address value (§14.2) of a message with <paramref name="transactionId"/>.</summary>
    public static bool TryReadXor(ReadOnlySpan<byte> value, in StunTransactionId transactionId, out TransportAddress address)
    {
        if (!TryReadFamily(value, out StunAddressFamily family))
        {
            address = default;
            return false;
        }

        // §14.2: X-Port is the port XOR the cookie's most significant 16 bits; X-Address is the address XOR the
        // cookie (IPv4) or XOR the cookie followed by the transaction ID (IPv6).
        ushort port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ (StunHeader.MagicCookie >> 16));
        Span<byte> bytes = stackalloc byte[16];
        int length = family == StunAddressFamily.IPv4 ? 4 : 16;
        value.Slice(4, length).CopyTo(bytes);
        ApplyXorMask(bytes[..length], transactionId);
        address = family == StunAddressFamily.IPv4
            ? TransportAddress.FromIPv4(bytes, port)
            : TransportAddress.FromIPv6(bytes, port);
        return true;
    }

    /// <summary>Encodes a plain address value; returns the bytes written (8 or 20).</summary>
    public static int Write(Span<byte> destination, in TransportAddress address)
    {
        destination[0] = 0;
        destination[1] = (byte)address.Family;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], address.Port);
        return 4 + address.WriteAddressBytes(destination[4..]);
    }

    /// <summary>Encodes an XOR-ed address value (§14.2); returns the bytes written (8 or 20).</summary>
    public static int WriteXor(Span<byte> destination, in TransportAddress address, in StunTransactionId transactionId)
    {
        destination[0] = 0;
        destination[1] = (byte)address.Family;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(address.Port ^ (StunHeader.MagicCookie >> 16)));
        int length = address.WriteAddressBytes(destination[4..]);
        ApplyXorMask(destination.Slice(4, length), transactionId);
        return 4 + length;
    }

    private static bool TryReadFamily(ReadOnlySpan<byte> value, out StunAddressFamily family)
    {
        family = value.Length switch
        {
            IPv4Length when value[1] == (byte)StunAddressFamily.IPv4 => StunAddressFamily.IPv4,
            IPv6Length when value[1] == (byte)StunAddressFamily.IPv6 => StunAddressFamily.IPv6,
            _ => 0,
        };
        return family != 0;
    }

    // XORs 4 address bytes with the magic cookie, or 16 with the cookie followed by the transaction ID.
    private static void ApplyXorMask(Span<byte> address, in StunTransactionId transactionId)
    {
        Span<byte> mask = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, StunHeader.MagicCookie);
        transactionId.CopyTo(mask[4..]);
        for (int i = 0; i < address.Length; i++)
        {
            address[i] ^= mask[i];
        }
    }
}
